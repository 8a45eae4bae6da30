import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CleanCommand } from './clean.js';
import { CrashCommand } from './crashes.js';
import { KillMidTakeCommand, PollCommand } from './polls.js';
import { BroadcastCommand, SendCommand } from './sends.js';
import { ExpireCommand, HeartbeatCommand, RestartCommand, TickCommand } from './sessions.js';
import { NAMES, type Real, reached, SENDS_PER_MINUTE, setup, TTL_MS, teardown } from './world.js';

const name = fc.constantFrom(...NAMES);

const commands = fc.commands(
  [
    fc
      .tuple(name, name, fc.integer({ min: 1, max: 4 }), fc.boolean())
      .map(([from, to, n, concurrent]) => new SendCommand(from, to, n, concurrent)),
    fc
      .tuple(name, name, fc.integer({ min: 1, max: 4 }), fc.boolean())
      .map(([from, to, n, concurrent]) => new SendCommand(from, to, n, concurrent)),
    // A burst past the per-minute limit, so the rate-limited case is reached in every run, not by luck.
    fc
      .tuple(name, name, fc.boolean())
      .map(([from, to, concurrent]) => new SendCommand(from, to, SENDS_PER_MINUTE + 1, concurrent)),
    name.map((n) => new PollCommand(n, false)),
    name.map((n) => new PollCommand(n, true)),
    fc.tuple(name, fc.boolean()).map(([n, race]) => new PollCommand(n, race, 'long-poll')),
    fc.tuple(name, fc.boolean()).map(([n, race]) => new PollCommand(n, race, 'hook')),
    name.map((n) => new BroadcastCommand(n)),
    name.map((n) => new KillMidTakeCommand(n)),
    name.map((n) => new HeartbeatCommand(n)),
    fc.integer({ min: 0, max: 20_000 }).map((ms) => new TickCommand(ms)),
    fc.integer({ min: 0, max: 5_000 }).map((ms) => new ExpireCommand(TTL_MS + ms)),
    fc.constant(new CleanCommand()),
    fc
      .tuple(fc.constantFrom('temp', 'settle', 'kill' as const), fc.nat(1000))
      .map(([kind, pick]) => new CrashCommand(kind, pick)),
    fc.nat(1000).map((pick) => new CrashCommand('packing', pick)),
    fc.nat(1000).map((pick) => new CrashCommand('settle', pick)),
    fc.oneof(
      name.map((n) => new RestartCommand(n)),
      fc.constant(new CleanCommand()),
    ),
  ],
  { maxCommands: 40, size: 'max' },
);

describe('relay model (fast-check model-based)', () => {
  afterAll(() => {
    // Printed so a run shows how much each interesting case was exercised.
    console.error('model cases reached:', JSON.stringify(reached));
  });

  it('INV-ONCE, INV-TAKE, INV-ORDER, INV-FOLD, INV-COMPACT, INV-VIA: random sends, polls (plain, long-poll, hook), races, expiry, cleans, crashes and takers killed mid-take agree with the model', async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        let real: Real | undefined;
        try {
          await fc.asyncModelRun(async () => {
            const world = await setup();
            real = world.real;
            return world;
          }, cmds);
        } finally {
          await teardown(real);
        }
      }),
      { numRuns: 50 },
    );
    // A property that never reached a case proves nothing about it.
    for (const [kind, count] of Object.entries(reached)) {
      expect(count, `case "${kind}" was never reached`).toBeGreaterThan(0);
    }
    // 50 runs of up to 40 commands against real files: about 30 s alone, longer on a loaded machine.
  }, 300_000);
});

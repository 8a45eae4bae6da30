import { promises as fs } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RelayContext } from '../../src/relay/context.js';
import { pollInbox } from '../../src/relay/poll.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext } from '../../src/relay/serve-session.js';
import { ManualClock, makeTempDir, testConfig, useHome } from '../support/home.js';

const home = useHome();

/** Counts lease attempts that lost the link(2) race: the case exactly-once is about. */
function countLostRaces(ctx: RelayContext, counter: { lost: number }): RelayContext {
  const leases = ctx.store.leases;
  const acquire = leases.acquire.bind(leases);
  leases.acquire = async (event) => {
    const won = await acquire(event);
    if (!won) counter.lost++;
    return won;
  };
  return ctx;
}

describe('INV-ONCE: each message is delivered to exactly one poll', () => {
  it('given two contexts polling one inbox at once, then every message is returned once', async () => {
    home.limits = { sendsPerMinute: 10_000 };
    await home.start('bob');
    const alice = home.context('alice');
    const counter = { lost: 0 };
    const pollers = [home.context('bob'), home.context('bob')].map((c) => countLostRaces(c, counter));
    const sent: string[] = [];
    const got: string[][] = [[], []];
    for (let round = 0; round < 15; round++) {
      for (let i = 0; i < 8; i++)
        sent.push((await sendMessage(alice, { to: 'bob', message: `${round}.${i}` })).event.key);
      const results = await Promise.all(pollers.map((p) => pollInbox(p, { via: 'poll' })));
      for (const [i, r] of results.entries()) got[i]?.push(...r.messages.map((m) => m.key));
    }
    const all = [...(got[0] ?? []), ...(got[1] ?? [])];
    expect(all.sort()).toEqual([...sent].sort());
    expect(new Set(all).size).toBe(sent.length);
    // Each poller keeps delivery order within what it got.
    for (const keys of got) expect([...keys].sort()).toEqual(keys);
    // The race must really have been run: some lease lost to the other poller.
    expect(counter.lost).toBeGreaterThan(0);
  });

  it('given a joined session and a second window with the same name, then they never share a message', async () => {
    home.limits = { sendsPerMinute: 10_000 };
    const bob = await home.start('bob');
    const window2 = home.context('bob');
    const alice = home.context('alice');
    for (let i = 0; i < 30; i++) await sendMessage(alice, { to: 'bob', message: `m${i}` });
    const [a, b] = await Promise.all([bob.poll({ via: 'poll' }), pollInbox(window2, { via: 'hook' })]);
    const keys = [...a.messages, ...b.messages].map((m) => m.body);
    expect(keys.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`).sort());
    const settled = await fs.readdir(`${home.root}/settled/bob`);
    expect(settled).toHaveLength(30);
  });

  it('given a message already delivered, when anyone polls again, then it is not returned', async () => {
    await home.start('bob');
    await sendMessage(home.context('alice'), { to: 'bob', message: 'once' });
    const first = await pollInbox(home.context('bob'), { via: 'poll' });
    const again = await Promise.all([1, 2, 3].map(() => pollInbox(home.context('bob'), { via: 'poll' })));
    expect(first.messages.map((m) => m.body)).toEqual(['once']);
    expect(again.map((r) => r.messages.length)).toEqual([0, 0, 0]);
  });

  it('property: N pollers racing on one inbox deliver each message exactly once', async () => {
    let lostRaces = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        async (pollers, batches, maxMessages) => {
          const root = await makeTempDir('relay-once-');
          try {
            const clock = new ManualClock();
            const make = (name: string) =>
              createContext({ config: testConfig(root, { sendsPerMinute: 10_000 }), name, now: clock.now });
            const counter = { lost: 0 };
            await fs.mkdir(`${root}/sessions/bob`, { recursive: true });
            const alice = make('alice');
            const polls = Array.from({ length: pollers }, () => countLostRaces(make('bob'), counter));
            const sent: string[] = [];
            const got: string[] = [];
            for (const n of batches) {
              for (let i = 0; i < n; i++)
                sent.push((await sendMessage(alice, { to: 'bob', message: 'x' })).event.key);
              const rs = await Promise.all(polls.map((p) => pollInbox(p, { via: 'poll', maxMessages })));
              for (const r of rs) got.push(...r.messages.map((m) => m.key));
            }
            // Drain what a maxMessages cap left behind, one poller at a time.
            for (;;) {
              const r = await pollInbox(make('bob'), { via: 'poll' });
              if (r.messages.length === 0) break;
              got.push(...r.messages.map((m) => m.key));
            }
            expect([...got].sort()).toEqual([...sent].sort());
            lostRaces += counter.lost;
          } finally {
            await fs.rm(root, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 25 },
    );
    expect(lostRaces).toBeGreaterThan(0);
  });
});

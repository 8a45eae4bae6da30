import { describe, expect, it } from 'vitest';
import type { DeliveryPath, SentEvent } from '../../src/log/events.js';
import { loadConfig } from '../../src/relay/config.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext } from '../../src/relay/serve-session.js';
import { tempDir } from '../support/cleanup.js';
import { childEnv } from '../support/env.js';
import { runCli, serve } from '../support/processes.js';
import { type Served, textOf } from '../support/stdio.js';
import { joinOnce, sentTo, settledOf } from '../support/store.js';
import { waitFor } from '../support/wait.js';

/**
 * INV-ONCE across delivery paths: a channel push and long-polls (one `serve`, RELAY_PUSH=deliver), a loop of
 * `claude-relay hook` processes and a loop of `claude-relay poll --json` processes all take from one inbox
 * while messages are sent. Every message must reach exactly one of them, and its settled event must name
 * the path that showed it.
 */

const NAME = 'rx';
const BACKLOG = 50;
const DURING = 50;

/** `#id` of each message in a poll answer or a hook's context. */
function idsIn(text: string): string[] {
  return [...text.matchAll(/\] From [^:]+: #([a-z0-9]{6}) /g)].map((m) => m[1] as string);
}

describe('delivery paths racing for one inbox', () => {
  it('INV-ONCE / INV-VIA: each of 100 messages is delivered exactly once, by channel, long-poll, hook or poll, and the log says which', async () => {
    const root = await tempDir();
    const env = childEnv({ RELAY_HOME: root, HOME: root, RELAY_SESSION_NAME: NAME });
    await joinOnce(root, NAME);
    const sender = createContext({
      config: loadConfig({ RELAY_HOME: root, RELAY_RATE_LIMIT: '1000' }, root),
      name: 'user',
    });
    const sent: SentEvent[] = [];
    const sendSome = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const body = `race-${String(sent.length).padStart(3, '0')}`;
        sent.push((await sendMessage(sender, { to: NAME, message: body })).event);
      }
    };

    // A backlog that every racer finds at once when they start together, then sends while they run.
    await sendSome(BACKLOG);

    const got: Array<{ id: string; via: DeliveryPath }> = [];
    let served: Served | undefined;
    const total = BACKLOG + DURING;
    const pushed = () =>
      (served?.pushes ?? []).map((p) => ({ id: p.meta?.id ?? '?', via: 'channel' as const }));
    const done = () => new Set([...got, ...pushed()].map((g) => g.id)).size >= total;
    let stop = false;

    const hookEvent = JSON.stringify({
      session_id: 'race',
      cwd: `/home/dev/${NAME}`,
      hook_event_name: 'PostToolUse',
      tool_name: 'Bash',
      tool_input: { command: 'true' },
      tool_response: { stdout: '' },
    });
    const hookLoop = async () => {
      while (!stop) {
        const ran = await runCli(['hook'], { env, input: hookEvent });
        expect(ran.stderr).toBe('');
        if (ran.stdout === '') continue;
        const out = JSON.parse(ran.stdout) as { hookSpecificOutput: { additionalContext: string } };
        for (const id of idsIn(out.hookSpecificOutput.additionalContext)) got.push({ id, via: 'hook' });
      }
    };
    const pollLoop = async () => {
      while (!stop) {
        const ran = await runCli(['poll', '--name', NAME, '--json'], { env });
        expect(ran.stderr).toBe('');
        for (const m of (JSON.parse(ran.stdout) as { messages: SentEvent[] }).messages)
          got.push({ id: m.id, via: 'cli' });
      }
    };
    const longPollLoop = async () => {
      served = await serve({ env: { ...env, RELAY_PUSH: 'deliver' } });
      while (!stop) {
        const result = await served.client.callTool({ name: 'relay_poll', arguments: { wait: 2 } });
        for (const id of idsIn(textOf(result))) got.push({ id, via: 'long-poll' });
      }
    };
    // A racer that fails stops the others, so the failure shows at once.
    const guarded = (loop: () => Promise<void>) =>
      loop().catch((e: unknown) => {
        stop = true;
        throw e;
      });
    const loops = Promise.all([guarded(longPollLoop), guarded(hookLoop), guarded(pollLoop)]);
    loops.catch(() => {});

    try {
      await waitFor('the serve to start', () => served !== undefined);
      await sendSome(DURING);
      await waitFor('every message to be delivered', () => done() || (stop && 'stopped'), 45_000);
    } finally {
      stop = true;
      await loops;
    }
    got.push(...pushed());

    // Exactly once: every id sent was shown once, and nothing else was shown.
    const counts = new Map<string, number>();
    for (const g of got) counts.set(g.id, (counts.get(g.id) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(sent.map((m) => m.id).sort());
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    // Nothing was taken and put back under a new id.
    expect((await sentTo(root, NAME)).map((m) => m.id).sort()).toEqual(sent.map((m) => m.id).sort());

    // The log records the path that showed each message.
    const settled = await settledOf(root, NAME);
    const via = new Map(got.map((g) => [g.id, g.via]));
    for (const m of sent) {
      expect(settled.get(m.key), m.body).toMatchObject({ kind: 'consumed', via: via.get(m.id) });
    }
    const byPath: Record<string, number> = {};
    for (const g of got) byPath[g.via] = (byPath[g.via] ?? 0) + 1;
    // The race was real: more than one path won messages (typically all four do).
    expect(Object.keys(byPath).length, JSON.stringify(byPath)).toBeGreaterThanOrEqual(2);
  }, 90_000);
});

import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { childEnv } from '../support/env.js';
import { runCli, serve } from '../support/processes.js';
import { answersOnWire, type Served, textOf } from '../support/stdio.js';
import { sentId, sentTo, settledOf } from '../support/store.js';
import { waitFor } from '../support/wait.js';

/**
 * relay_poll(wait) end to end: a real `claude-relay serve` over stdio, woken by a `claude-relay send` from
 * another OS process.
 */

async function start(name: string): Promise<{ root: string; env: Record<string, string>; served: Served }> {
  const root = await tempDir();
  const env = childEnv({ RELAY_HOME: root, RELAY_SESSION_NAME: name, HOME: root });
  const served = await serve({ env });
  return { root, env, served };
}

/** A send by a person at the terminal: its own OS process. */
async function send(env: Record<string, string>, to: string, message: string): Promise<string> {
  const ran = await runCli(['send', to, message], { env });
  expect(ran.stderr).toBe('');
  expect(ran.code).toBe(0);
  return sentId(ran.stdout);
}

/** The inbox folder appears when a long-poll starts watching it (nothing else creates it in a fresh store). */
function waiting(root: string, name: string): Promise<true> {
  return waitFor('the long-poll to start watching', () => existsSync(path.join(root, 'inbox', name)));
}

describe('relay_poll(wait) over stdio', () => {
  it('INV-ONCE / INV-VIA: a waiting poll is woken by a send from another process and returns that message', async () => {
    const { root, env, served } = await start('lp');
    const call = served.client.callTool({ name: 'relay_poll', arguments: { wait: 30 } });
    await waiting(root, 'lp');
    const id = await send(env, 'lp', 'wake up, the build is green');

    const text = textOf(await call);
    expect(text).toBe(`1 new message(s):\n  [info|local|cli] From user: #${id} wake up, the build is green`);
    const [message] = await sentTo(root, 'lp');
    // Consumed once the answer has been written out: just after the client got it.
    await waitFor('the message to be consumed', async () => (await settledOf(root, 'lp')).size === 1);
    expect((await settledOf(root, 'lp')).get(message?.key ?? '')).toMatchObject({
      kind: 'consumed',
      via: 'long-poll',
    });
    expect(textOf(await served.client.callTool({ name: 'relay_poll', arguments: {} }))).toBe(
      'No new messages.',
    );
  });

  it('sends progress notifications while it waits when the request carries a progressToken', async () => {
    const { root, env, served } = await start('prog');
    const progress: Array<{ progress: number; total?: number }> = [];
    const call = served.client.callTool({ name: 'relay_poll', arguments: { wait: 30 } }, undefined, {
      onprogress: (p) => {
        progress.push(p);
      },
    });
    await waiting(root, 'prog');
    await waitFor('a progress notification', () => progress.length > 0);
    const id = await send(env, 'prog', 'done waiting');

    expect(textOf(await call)).toContain(`#${id} done waiting`);
    expect(progress[0]?.total).toBe(30);
    for (const p of progress) expect(p.progress).toBeLessThanOrEqual(30);
  });

  it('INV-CANCEL-SAFE: returns the empty answer when the deadline passes with nothing sent', async () => {
    const { served } = await start('quiet');
    const result = await served.client.callTool({ name: 'relay_poll', arguments: { wait: 1 } });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('No new messages.');
  });

  it('INV-CANCEL-SAFE: refuses a wait out of range, or not a number, with a tool error', async () => {
    const { root, env, served } = await start('range');
    const id = await send(env, 'range', 'still here');
    for (const wait of [-1, 601, 'x', null]) {
      const result = await served.client.callTool({ name: 'relay_poll', arguments: { wait } });
      expect(result.isError, `wait ${JSON.stringify(wait)}`).toBe(true);
      expect(textOf(result)).toMatch(/wait/);
    }
    // A refused call takes nothing.
    expect(await settledOf(root, 'range')).toHaveProperty('size', 0);
    expect(textOf(await served.client.callTool({ name: 'relay_poll', arguments: { wait: 600 } }))).toContain(
      `#${id} still here`,
    );
  });

  it('INV-CANCEL-SAFE: a cancelled wait takes nothing; a message sent after the cancel comes to a later poll, once', async () => {
    const { root, env, served } = await start('cancel');
    const abort = new AbortController();
    const call = served.client.callTool({ name: 'relay_poll', arguments: { wait: 30 } }, undefined, {
      signal: abort.signal,
    });
    await waiting(root, 'cancel');
    abort.abort();
    await expect(call).rejects.toThrow();
    // The server reads its input in order: once this ping is answered, it has seen the cancellation.
    await served.client.ping();
    const id = await send(env, 'cancel', 'sent after the cancel');

    const later = textOf(await served.client.callTool({ name: 'relay_poll', arguments: { wait: 30 } }));
    expect(later).toBe(`1 new message(s):\n  [info|local|cli] From user: #${id} sent after the cancel`);
    expect(textOf(await served.client.callTool({ name: 'relay_poll', arguments: {} }))).toBe(
      'No new messages.',
    );
    // Nothing was taken and put back: the one message sent is the one delivered.
    const sent = await sentTo(root, 'cancel');
    expect(sent.map((m) => m.id)).toEqual([id]);
    await waitFor('the message to be consumed', async () => (await settledOf(root, 'cancel')).size > 0);
    expect([...(await settledOf(root, 'cancel')).values()].map((s) => s.kind)).toEqual(['consumed']);
  });

  it('INV-CANCEL-SAFE: cancels racing sends: the server answers each message once, or puts it back', async () => {
    const { root, env, served } = await start('churn');
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) {
      const abort = new AbortController();
      const call = served.client.callTool({ name: 'relay_poll', arguments: { wait: 30 } }, undefined, {
        signal: abort.signal,
      });
      call.catch(() => {});
      await waiting(root, 'churn');
      const body = `racing the cancel ${i}`;
      bodies.push(body);
      // The send and the cancel happen together: a wait may take a message just before it sees the cancel;
      // then it must put the message back, since its answer is never sent.
      const sending = send(env, 'churn', body);
      abort.abort();
      await sending;
      await served.client.ping();
    }
    for (;;) {
      const text = textOf(await served.client.callTool({ name: 'relay_poll', arguments: {} }));
      if (text === 'No new messages.') break;
    }
    // Counted on the wire: an answer that reached the client just after it gave up on the call was still
    // sent once (MCP lets a client drop a late answer; that loss is the protocol's, not the relay's).
    const shown = answersOnWire(served.wire).flatMap((t) =>
      [...t.matchAll(/#[a-z0-9]{6} (.*)$/gm)].map((m) => m[1]),
    );
    expect(shown.sort()).toEqual(bodies.sort());
  });
});

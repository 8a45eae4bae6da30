import { describe, expect, it } from 'vitest';
import type { SettledEvent } from '../../src/log/events.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext } from '../../src/relay/serve-session.js';
import { joinedSession, linkInMemory } from '../support/memory.js';
import { answersOnWire, textOf } from '../support/stdio.js';
import { sentTo } from '../support/store.js';
import { waitFor } from '../support/wait.js';

/**
 * The cancellation path that a race reaches only by luck, made certain: the client cancels relay_poll(wait)
 * at the very moment the server has taken the first message (the in-memory transport delivers the
 * cancellation synchronously, from inside the store's settle). What was taken must go back, and come to the
 * next poll exactly once.
 */

async function setup() {
  const { root, config, session } = await joinedSession('api');
  const { client, wire } = await linkInMemory(session, { clientName: 'cancel-test' });
  const sender = createContext({ config, name: 'web' });
  const send = async (body: string) => (await sendMessage(sender, { to: 'api', message: body })).event;
  return { root, session, client, wire, send };
}

describe('relay_poll(wait) cancelled while it takes messages', () => {
  it('INV-CANCEL-SAFE: puts back what it took, in place; the next poll returns each message once', async () => {
    const { root, session, client, wire, send } = await setup();
    const first = await send('one');
    await send('two');
    await send('three');

    const abort = new AbortController();
    const store = session.ctx.store;
    const settle = store.settle.bind(store);
    let taken = 0;
    store.settle = async (event: SettledEvent) => {
      const won = await settle(event);
      if (won && ++taken === 1) abort.abort();
      return won;
    };
    const call = client.callTool({ name: 'relay_poll', arguments: { wait: 30 } }, undefined, {
      signal: abort.signal,
    });
    await expect(call).rejects.toThrow();
    // The handler goes on after the client gave up: it took all three, then puts all three back.
    await waitFor('the three messages to be put back', async () => (await sentTo(root, 'api')).length === 6);
    store.settle = settle;
    expect(taken).toBe(3);

    const next = textOf(await client.callTool({ name: 'relay_poll', arguments: {} }));
    expect(next).toMatch(/^3 new message\(s\):\n {2}\[info\|local\] From web: #\w{6} one\n.* two\n.* three$/);
    expect(next).not.toContain(first.id);
    expect(textOf(await client.callTool({ name: 'relay_poll', arguments: {} }))).toBe('No new messages.');
    // The cancelled call's answer never went out.
    expect(answersOnWire(wire).join('\n').match(/ one$/gm)).toHaveLength(1);
  });

  it('INV-CANCEL-SAFE: a cancel before anything arrived ends the wait and takes nothing', async () => {
    const { root, client, send } = await setup();
    const abort = new AbortController();
    const call = client.callTool({ name: 'relay_poll', arguments: { wait: 600 } }, undefined, {
      signal: abort.signal,
    });
    await waitFor('the wait to start', async () => (await import('node:fs')).existsSync(`${root}/inbox/api`));
    abort.abort();
    await expect(call).rejects.toThrow();
    await client.ping();
    const m = await send('after');
    expect(textOf(await client.callTool({ name: 'relay_poll', arguments: {} }))).toContain(`#${m.id} after`);
  });
});

import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sendMessage } from '../../src/relay/send.js';
import { createContext } from '../../src/relay/serve-session.js';
import { joinedSession, linkInMemory } from '../support/memory.js';
import { answersOnWire, textOf } from '../support/stdio.js';
import { sentTo } from '../support/store.js';
import { waitFor } from '../support/wait.js';

/**
 * The cancellation path that a race reaches only by luck, made certain: the client cancels relay_poll(wait)
 * at the very moment the server has taken the first message (the in-memory transport delivers the
 * cancellation synchronously, from inside the lease). What was taken must go back untouched, and come to
 * the next poll exactly once.
 */

const leaseFiles = (root: string) => fs.readdir(`${root}/leases/api`).catch(() => [] as string[]);
const settledIn = (root: string) => fs.readdir(`${root}/settled/api`).catch(() => [] as string[]);

async function setup() {
  const { root, config, session } = await joinedSession('api');
  const { client, wire } = await linkInMemory(session, { clientName: 'cancel-test' });
  const sender = createContext({ config, name: 'web' });
  const send = async (body: string) => (await sendMessage(sender, { to: 'api', message: body })).event;
  return { root, session, client, wire, send };
}

describe('relay_poll(wait) cancelled while it takes messages', () => {
  it('INV-CANCEL-SAFE: gives back what it took, untouched; the next poll returns each message once', async () => {
    const { root, session, client, wire, send } = await setup();
    const sent = [await send('one'), await send('two'), await send('three')];

    const abort = new AbortController();
    const leases = session.ctx.store.leases;
    const acquire = leases.acquire.bind(leases);
    let taken = 0;
    leases.acquire = async (event) => {
      const won = await acquire(event);
      if (won && ++taken === 1) abort.abort();
      return won;
    };
    const call = client.callTool({ name: 'relay_poll', arguments: { wait: 30 } }, undefined, {
      signal: abort.signal,
    });
    await expect(call).rejects.toThrow();
    // The handler goes on after the client gave up: it took all three, then gives all three back.
    await waitFor('the three leases to go', async () => taken === 3 && (await leaseFiles(root)).length === 0);
    leases.acquire = acquire;
    expect(await sentTo(root, 'api')).toHaveLength(3);
    expect(await settledIn(root)).toEqual([]);

    const next = textOf(await client.callTool({ name: 'relay_poll', arguments: {} }));
    expect(next).toBe(
      ['3 new message(s):', ...sent.map((m) => `  [info|local] From web: #${m.id} ${m.body}`)].join('\n'),
    );
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

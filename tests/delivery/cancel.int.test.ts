import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { describe, expect, it } from 'vitest';
import type { SettledEvent } from '../../src/log/events.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { loadConfig } from '../../src/relay/config.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext, RelaySession } from '../../src/relay/serve-session.js';
import {
  answersOnWire,
  defer,
  type Served,
  sentTo,
  tempDir,
  textOf,
  waitFor,
} from '../support/stdio-push-old.js';

/**
 * The cancellation path that a race reaches only by luck, made certain: the client cancels relay_poll(wait)
 * at the very moment the server has taken the first message (the in-memory transport delivers the
 * cancellation synchronously, from inside the store's settle). What was taken must go back, and come to the
 * next poll exactly once.
 */

async function setup() {
  const root = await tempDir();
  const config = loadConfig({ RELAY_HOME: root, RELAY_SESSION_NAME: 'api' }, root);
  const session = await RelaySession.start({ config });
  defer(() => session.stop());
  const server = createMcpServer(session, 'test', 'off');
  const client = new Client({ name: 'cancel-test', version: '1.0.0' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.connect(clientSide);
  defer(async () => {
    await client.close();
    await server.close();
  });
  const wire: Served['wire'] = [];
  const deliver = clientSide.onmessage;
  clientSide.onmessage = (m, extra) => {
    wire.push(m);
    deliver?.(m, extra);
  };
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
    await waitFor(async () => (await sentTo(root, 'api')).length === 6, 'the three messages to be put back');
    store.settle = settle;
    expect(taken).toBe(3);

    const next = textOf(await client.callTool({ name: 'relay_poll', arguments: {} }));
    expect(next).toMatch(/^3 new message\(s\):\n {2}\[info\|local\] From web: #\w{6} one\n.* two\n.* three$/);
    expect(next).not.toContain(first.id);
    expect(textOf(await client.callTool({ name: 'relay_poll', arguments: {} }))).toBe('No new messages.');
    // The cancelled call's answer never went out.
    expect(
      answersOnWire({ wire } as Served)
        .join('\n')
        .match(/ one$/gm),
    ).toHaveLength(1);
  });

  it('INV-CANCEL-SAFE: a cancel before anything arrived ends the wait and takes nothing', async () => {
    const { root, client, send } = await setup();
    const abort = new AbortController();
    const call = client.callTool({ name: 'relay_poll', arguments: { wait: 600 } }, undefined, {
      signal: abort.signal,
    });
    await waitFor(async () => (await import('node:fs')).existsSync(`${root}/inbox/api`), 'the wait to start');
    abort.abort();
    await expect(call).rejects.toThrow();
    await client.ping();
    const m = await send('after');
    expect(textOf(await client.callTool({ name: 'relay_poll', arguments: {} }))).toContain(`#${m.id} after`);
  });
});

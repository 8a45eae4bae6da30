import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { describe, expect, it } from 'vitest';
import { ChannelPush, choosePush, pushModeFromEnv } from '../../src/mcp/push.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { loadConfig } from '../../src/relay/config.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext, RelaySession } from '../../src/relay/serve-session.js';
import {
  ChannelNotificationSchema,
  defer,
  sentTo,
  settledOf,
  tempDir,
  waitFor,
} from '../support/stdio-push-old.js';

/** ChannelPush in process: what happens to taken messages when a push cannot be sent. */

describe('ChannelPush (deliver) when the connection fails mid-batch', () => {
  it('INV-PUSH-ONCE: what was pushed counts as delivered; the rest goes back and comes to the next poll, once', async () => {
    const root = await tempDir();
    const config = loadConfig({ RELAY_HOME: root, RELAY_SESSION_NAME: 'api' }, root);
    const session = await RelaySession.start({ config });
    defer(() => session.stop());
    const sender = createContext({ config, name: 'web' });
    for (const body of ['one', 'two', 'three']) await sendMessage(sender, { to: 'api', message: body });

    const server = createMcpServer(session, 'test', 'deliver');
    const client = new Client({ name: 'push-test', version: '1.0.0' });
    const received: string[] = [];
    client.setNotificationHandler(ChannelNotificationSchema, (n) => {
      received.push(n.params.content);
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    await client.connect(clientSide);
    defer(async () => {
      await client.close();
      await server.close();
    });
    // The second push finds the connection gone.
    const notify = server.server.notification.bind(server.server);
    let pushes = 0;
    server.server.notification = async (n, options) => {
      if (++pushes === 2) throw new Error('Not connected');
      return notify(n, options);
    };
    const errors: unknown[] = [];
    const push = new ChannelPush(server, session, 'deliver', (e) => errors.push(e));
    defer(() => push.stop());
    await push.start();
    await waitFor(() => errors.length > 0, 'the failed push to be reported');
    push.stop();

    expect(received).toEqual(['one']);
    const next = await session.poll({ via: 'poll' });
    expect(next.messages.map((m) => m.body)).toEqual(['two', 'three']);
    expect((await session.poll({ via: 'poll' })).messages).toEqual([]);
    const viaOf = new Map([...(await settledOf(root, 'api')).values()].map((s) => [s.key, s]));
    const one = (await sentTo(root, 'api')).find((m) => m.body === 'one');
    expect(viaOf.get(one?.key ?? '')).toMatchObject({ via: 'channel' });
  });
});

describe('push mode', () => {
  it('INV-PUSH-ONCE: RELAY_PUSH decides; unset, only claude-code gets notices', () => {
    expect(pushModeFromEnv({})).toBeUndefined();
    expect(pushModeFromEnv({ RELAY_PUSH: '' })).toBeUndefined();
    for (const mode of ['deliver', 'notify', 'off'] as const) {
      expect(pushModeFromEnv({ RELAY_PUSH: mode })).toBe(mode);
      expect(choosePush(mode, 'claude-code')).toBe(mode);
      expect(choosePush(mode, 'other')).toBe(mode);
    }
    expect(() => pushModeFromEnv({ RELAY_PUSH: 'yes' })).toThrow(/RELAY_PUSH must be deliver, notify or off/);
    expect(choosePush(undefined, 'claude-code')).toBe('notify');
    expect(choosePush(undefined, 'cursor')).toBe('off');
    expect(choosePush(undefined, undefined)).toBe('off');
  });
});

import { describe, expect, it } from 'vitest';
import { ChannelPush, choosePush, pushModeFromEnv } from '../../src/mcp/push.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext } from '../../src/relay/serve-session.js';
import { defer } from '../support/cleanup.js';
import { joinedSession, linkInMemory } from '../support/memory.js';
import { sentTo, settledOf } from '../support/store.js';
import { waitFor } from '../support/wait.js';

/** ChannelPush in process: what happens to taken messages when a push cannot be sent. */

describe('ChannelPush (deliver) when the connection fails mid-batch', () => {
  it('INV-PUSH-ONCE: what was pushed counts as delivered; the rest goes back and comes to the next poll, once', async () => {
    const { root, config, session } = await joinedSession('api');
    const sender = createContext({ config, name: 'web' });
    for (const body of ['one', 'two', 'three']) await sendMessage(sender, { to: 'api', message: body });

    const { server, pushes: received } = await linkInMemory(session, {
      push: 'deliver',
      clientName: 'push-test',
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
    await waitFor('the failed push to be reported', () => errors.length > 0);
    push.stop();

    expect(received.map((p) => p.content)).toEqual(['one']);
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
    expect(() => pushModeFromEnv({ RELAY_PUSH: 'yes' })).toThrow(
      /RELAY_PUSH must be native, deliver, notify or off/,
    );
    // Claude Code 2.1.224+ gives its servers the messaging socket: native is then the default, RELAY_PUSH still wins.
    const socket = { CLAUDE_CODE_MESSAGING_SOCKET: '/tmp/cc.sock', CLAUDE_CODE_MESSAGING_TOKEN: 't' };
    expect(pushModeFromEnv(socket)).toBe('native');
    expect(pushModeFromEnv({ ...socket, RELAY_PUSH: 'notify' })).toBe('notify');
    expect(pushModeFromEnv({ RELAY_PUSH: 'native' })).toBe('native');
    expect(choosePush(undefined, 'claude-code')).toBe('notify');
    expect(choosePush(undefined, 'cursor')).toBe('off');
    expect(choosePush(undefined, undefined)).toBe('off');
  });
});

import { describe, expect, it } from 'vitest';
import { DELIVER_INSTRUCTIONS } from '../../src/mcp/server.js';
import { tempDir } from '../support/cleanup.js';
import { childEnv } from '../support/env.js';
import { runCli, serve } from '../support/processes.js';
import { type Served, textOf } from '../support/stdio.js';
import { sentId, sentTo, settledOf } from '../support/store.js';
import { waitFor } from '../support/wait.js';

/**
 * Channel push (`notifications/claude/channel`) end to end: `claude-relay serve` over real stdio, an SDK
 * client with a handler for the notification, and sends from another OS process.
 */

interface Setup {
  readonly root: string;
  readonly env: Record<string, string>;
  readonly served: Served;
}

async function start(
  name: string,
  push: string | undefined,
  options: { clientName?: string; args?: string[]; root?: string } = {},
): Promise<Setup> {
  const root = options.root ?? (await tempDir());
  const env = childEnv({ RELAY_HOME: root, RELAY_SESSION_NAME: name, HOME: root, RELAY_PUSH: push });
  const served = await serve({
    env,
    ...(options.clientName === undefined ? {} : { clientName: options.clientName }),
    ...(options.args === undefined ? {} : { args: options.args }),
  });
  return { root, env, served };
}

async function send(
  env: Record<string, string>,
  to: string,
  message: string,
  extra: string[] = [],
): Promise<string> {
  const ran = await runCli(['send', to, message, ...extra], { env });
  expect(ran.code, ran.stderr).toBe(0);
  return sentId(ran.stdout);
}

const CHANNEL = 'claude/channel';

describe('channel push: RELAY_PUSH=deliver', () => {
  it('INV-PUSH-ONCE / INV-VIA: pushes each message once, whole, and a later poll finds nothing', async () => {
    const { root, env, served } = await start('chd', 'deliver');
    expect(served.client.getServerCapabilities()?.experimental?.[CHANNEL]).toEqual({});
    expect(served.client.getInstructions()).toBe(DELIVER_INSTRUCTIONS);

    const a = await send(env, 'chd', 'first, as a request', ['--type', 'request', '--from', 'api']);
    const b = await send(env, 'chd', 'second\nwith two lines');
    await waitFor('two pushes', () => served.pushes.length >= 2);
    expect(served.pushes.slice(0, 2)).toEqual([
      { content: 'first, as a request', meta: { from: 'api', type: 'request', id: a, by: 'cli' } },
      { content: 'second\nwith two lines', meta: { from: 'user', type: 'info', id: b, by: 'cli' } },
    ]);
    expect(textOf(await served.client.callTool({ name: 'relay_poll', arguments: {} }))).toBe(
      'No new messages.',
    );

    // One more message closes the stream: nothing of the first two came again before it.
    const c = await send(env, 'chd', 'third', ['--reply-to', a]);
    await waitFor('the third push', () => served.pushes.length >= 3);
    expect(served.pushes.map((p) => p.meta?.id)).toEqual([a, b, c]);
    expect(served.pushes[2]?.meta).toEqual({ from: 'user', type: 'info', id: c, reply_to: a, by: 'cli' });

    // Each push is consumed once its notification has been written out: just after the client got it.
    await waitFor('the three to be consumed', async () => (await settledOf(root, 'chd')).size === 3);
    const settled = await settledOf(root, 'chd');
    const sent = await sentTo(root, 'chd');
    expect(sent.map((m) => m.id)).toEqual([a, b, c]);
    for (const m of sent) expect(settled.get(m.key)).toMatchObject({ kind: 'consumed', via: 'channel' });
  });

  it('INV-PUSH-ONCE: pushes the messages that waited while no client was connected', async () => {
    const first = await start('late', 'off');
    await first.served.close();
    const id = await send(first.env, 'late', 'queued while away');

    const { served } = await start('late', 'deliver', { root: first.root });
    await waitFor('the waiting message to be pushed', () => served.pushes.length >= 1);
    expect(served.pushes).toEqual([
      { content: 'queued while away', meta: { from: 'user', type: 'info', id, by: 'cli' } },
    ]);
  });

  it('INV-PUSH-ONCE: serve --push deliver does what RELAY_PUSH=deliver does', async () => {
    const { env, served } = await start('flag', undefined, { args: ['--push', 'deliver'] });
    expect(served.client.getServerCapabilities()?.experimental?.[CHANNEL]).toEqual({});
    expect(served.client.getInstructions()).toBe(DELIVER_INSTRUCTIONS);
    const id = await send(env, 'flag', 'by flag');
    await waitFor('a push', () => served.pushes.length >= 1);
    expect(served.pushes[0]).toEqual({
      content: 'by flag',
      meta: { from: 'user', type: 'info', id, by: 'cli' },
    });
  });
});

describe('channel push: RELAY_PUSH=notify', () => {
  it('INV-PUSH-ONCE: pushes a notice naming the sender; the message still waits for relay_poll', async () => {
    const { root, env, served } = await start('chn', 'notify');
    expect(served.client.getServerCapabilities()?.experimental?.[CHANNEL]).toEqual({});
    expect(served.client.getInstructions()).toBeUndefined();

    const id = await send(env, 'chn', 'the body stays private', ['--from', 'frontend']);
    await waitFor('a notice', () => served.pushes.length >= 1);
    expect(served.pushes[0]).toEqual({
      content: '1 new relay message(s) from frontend: call relay_poll to read.',
      meta: { count: '1' },
    });
    expect(JSON.stringify(served.pushes)).not.toContain('the body stays private');
    expect(await settledOf(root, 'chn')).toHaveProperty('size', 0);

    expect(textOf(await served.client.callTool({ name: 'relay_poll', arguments: {} }))).toBe(
      `1 new message(s):\n  [info|local|cli] From frontend: #${id} the body stays private`,
    );
    const [m] = await sentTo(root, 'chn');
    // Consumed once the answer has been written out: just after the client got it.
    await waitFor('the message to be consumed', async () => (await settledOf(root, 'chn')).size === 1);
    expect((await settledOf(root, 'chn')).get(m?.key ?? '')).toMatchObject({ via: 'poll' });
  });

  it('INV-PUSH-ONCE: notifies once per message, not again for a message it already announced', async () => {
    const { env, served } = await start('once', 'notify');
    await send(env, 'once', 'one', ['--from', 'api']);
    await waitFor('the first notice', () => served.pushes.length >= 1);
    await send(env, 'once', 'two', ['--from', 'web']);
    await waitFor('the second notice', () => served.pushes.length >= 2);
    expect(served.pushes.map((p) => p.content)).toEqual([
      '1 new relay message(s) from api: call relay_poll to read.',
      '1 new relay message(s) from web: call relay_poll to read.',
    ]);
    expect(textOf(await served.client.callTool({ name: 'relay_poll', arguments: {} }))).toMatch(
      /^2 new message\(s\):/,
    );
  });
});

describe('channel push: RELAY_PUSH unset', () => {
  it('INV-PUSH-ONCE: client claude-code: notify mode, capability declared, no instructions', async () => {
    const { env, served } = await start('cc', undefined, { clientName: 'claude-code' });
    expect(served.client.getServerCapabilities()?.experimental?.[CHANNEL]).toEqual({});
    expect(served.client.getInstructions()).toBeUndefined();
    const id = await send(env, 'cc', 'for claude code');
    await waitFor('a notice', () => served.pushes.length >= 1);
    expect(served.pushes[0]?.content).toBe('1 new relay message(s) from user: call relay_poll to read.');
    expect(textOf(await served.client.callTool({ name: 'relay_poll', arguments: {} }))).toContain(
      `#${id} for claude code`,
    );
  });

  it('INV-PUSH-ONCE: another client: no capability, no instructions, no push', async () => {
    const { env, served } = await start('other', undefined, { clientName: 'codex-mcp-client' });
    expect(served.client.getServerCapabilities()?.experimental?.[CHANNEL]).toBeUndefined();
    expect(served.client.getInstructions()).toBeUndefined();
    // Two messages sent and taken by long-polls: a push, had there been one, was due before each answer.
    for (const body of ['one', 'two']) {
      const waiting = served.client.callTool({ name: 'relay_poll', arguments: { wait: 30 } });
      const id = await send(env, 'other', body);
      expect(textOf(await waiting)).toContain(`#${id} ${body}`);
    }
    await served.client.ping();
    expect(served.pushes).toEqual([]);
  });

  it('INV-PUSH-ONCE: RELAY_PUSH=off: no capability and no push, even for claude-code', async () => {
    const { env, served } = await start('off', 'off', { clientName: 'claude-code' });
    expect(served.client.getServerCapabilities()?.experimental?.[CHANNEL]).toBeUndefined();
    const waiting = served.client.callTool({ name: 'relay_poll', arguments: { wait: 30 } });
    const id = await send(env, 'off', 'polled, not pushed');
    expect(textOf(await waiting)).toContain(`#${id} polled, not pushed`);
    await served.client.ping();
    expect(served.pushes).toEqual([]);
  });

  it('a RELAY_PUSH that is not a mode stops serve with a sentence that says what to do', async () => {
    const root = await tempDir();
    const ran = await runCli(['serve'], {
      env: childEnv({ RELAY_HOME: root, RELAY_SESSION_NAME: 'bad', RELAY_PUSH: 'always' }),
    });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('RELAY_PUSH must be native, deliver, notify or off, got "always"');
    expect(ran.stdout).toBe('');
  });
});

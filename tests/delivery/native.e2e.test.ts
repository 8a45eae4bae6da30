import { describe, expect, it } from 'vitest';
import { defer, tempDir } from '../support/cleanup.js';
import { FakeMessagingSocket } from '../support/native-socket.js';
import { runCli, serve } from '../support/processes.js';
import { textOf } from '../support/stdio.js';
import { joinOnce, sentId, settledOf } from '../support/store.js';
import { waitFor } from '../support/wait.js';

/**
 * `claude-relay serve` started as Claude Code 2.1.224+ starts it (the messaging socket variables set), over
 * real stdio, with sends from other OS processes and a fake messaging socket on a real Unix socket.
 */

async function start(name: string, extra: Record<string, string | undefined> = {}) {
  const root = await tempDir();
  const fake = await FakeMessagingSocket.start(await tempDir('relay-sock-'));
  defer(() => fake.close());
  await joinOnce(root, name);
  const env = { RELAY_HOME: root, RELAY_SESSION_NAME: name, HOME: root, ...fake.env, ...extra };
  const send = async (message: string) => {
    const ran = await runCli(['send', name, message, '--from', 'web'], { env });
    expect(ran.code, ran.stderr).toBe(0);
    return sentId(ran.stdout);
  };
  return { root, fake, env, send };
}

describe('native push: serve with the messaging socket variables (RELAY_PUSH unset)', () => {
  it('INV-PUSH-ONCE / INV-VIA: waiting mail and mail sent later are posted once; polls find nothing; sessions mark push', async () => {
    const { root, fake, env, send } = await start('nat');
    const early = await send('waiting at start');
    const served = await serve({ env, clientName: 'claude-code' });
    expect(served.client.getServerCapabilities()?.experimental, 'no channel to declare').toBeUndefined();
    await waitFor('the waiting mail to be posted', () => fake.posts.length >= 1);
    const later = await send('sent while running');
    await waitFor('the later mail to be posted', () => fake.posts.some((p) => p.text.includes(later)));

    const posted = fake.posts.map((p) => p.text).join('\n');
    expect(posted).toContain(`From web: #${early} waiting at start`);
    expect(posted).toContain(`From web: #${later} sent while running`);
    expect(fake.badAuth).toBe(0);
    await waitFor('both consumed via native', async () => {
      const settled = [...(await settledOf(root, 'nat')).values()];
      return settled.length === 2 && settled.every((s) => s.kind === 'consumed' && s.via === 'native');
    });
    expect(textOf(await served.client.callTool({ name: 'relay_poll', arguments: {} }))).toBe(
      'No new messages.',
    );
    const sessions = textOf(await served.client.callTool({ name: 'relay_sessions', arguments: {} }));
    expect(sessions).toMatch(/^ {2}- nat push \(you\) — /m);

    const status = JSON.parse((await runCli(['status', '--json'], { env })).stdout);
    expect(status.deliveries).toEqual([{ name: 'nat', handed: 2, returned: 0 }]);
    expect(served.stderr()).toBe('');
  });

  it('a socket that is gone: one line on stderr, the mail waits for relay_poll', async () => {
    const { fake, env, send } = await start('gone');
    await fake.close();
    const id = await send('not lost');
    const served = await serve({ env, clientName: 'claude-code' });
    await waitFor('the failure on stderr', () => served.stderr().includes('native inbox push stopped'));
    const polled = textOf(await served.client.callTool({ name: 'relay_poll', arguments: {} }));
    expect(polled).toContain(`#${id} not lost`);
    await send('after the failure');
    expect(textOf(await served.client.callTool({ name: 'relay_poll', arguments: {} }))).toContain(
      'after the failure',
    );
    expect(served.stderr().match(/native inbox/g)).toHaveLength(1);
  });

  it('RELAY_PUSH=native without the variables says so once; RELAY_PUSH=off posts nothing', async () => {
    const { env } = await start('none', {
      CLAUDE_CODE_MESSAGING_SOCKET: undefined,
      CLAUDE_CODE_MESSAGING_TOKEN: undefined,
      RELAY_PUSH: 'native',
    });
    const served = await serve({ env, clientName: 'claude-code' });
    await waitFor('the sentence on stderr', () => served.stderr().includes('RELAY_PUSH is native but'));

    const off = await start('quiet', { RELAY_PUSH: 'off' });
    const id = await off.send('for a poll');
    const quiet = await serve({ env: off.env, clientName: 'claude-code' });
    expect(textOf(await quiet.client.callTool({ name: 'relay_poll', arguments: {} }))).toContain(`#${id}`);
    expect(off.fake.posts).toEqual([]);
  });
});

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/relay/config.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext } from '../../src/relay/serve-session.js';
import { tempDir } from '../support/cleanup.js';
import { runCli, serve, spawnCli } from '../support/processes.js';
import { settledOf } from '../support/store.js';
import { waitFor } from '../support/wait.js';

/**
 * Big bodies at exit, with the built CLI over real pipes: nothing is consumed before its whole answer has
 * left the process, and a hook puts in front of the model only what the client shows (Claude Code caps
 * `additionalContext` at 10,000 characters), leaving the rest waiting for relay_poll.
 */

/** Claude Code shows at most this many characters of a hook's additionalContext. */
const CLIENT_CONTEXT_LIMIT = 10_000;

async function mailTo(root: string, to: string, body: string): Promise<string> {
  const ctx = createContext({ config: loadConfig({ RELAY_HOME: root }, root), name: 'alice' });
  return (await sendMessage(ctx, { to, message: body })).event.key;
}

function lines(count: number, width: number): string {
  return Array.from({ length: count }, (_, i) =>
    `line ${String(i).padStart(5, '0')} `.padEnd(width, 'x'),
  ).join('\n');
}

describe('big bodies at exit', () => {
  it('INV-ONCE: the hook with a 10,000-line message prints valid JSON the client shows whole, and the message waits for relay_poll', async () => {
    const root = await tempDir();
    const body = lines(10_000, 72);
    expect(body.length).toBeGreaterThan(700_000);
    const key = await mailTo(root, 'bob', body);

    const ran = await runCli(['hook'], {
      env: { RELAY_HOME: root, RELAY_SESSION_NAME: 'bob' },
      input: JSON.stringify({ hook_event_name: 'UserPromptSubmit', cwd: root }),
    });
    expect(ran.code).toBe(0);
    const out = JSON.parse(ran.stdout) as { hookSpecificOutput: { additionalContext: string } };
    const context = out.hookSpecificOutput.additionalContext;
    expect(context.length).toBeLessThan(CLIENT_CONTEXT_LIMIT);
    expect(context).toMatch(/\d+ (bytes|KB|MB)/);
    expect(context).toContain('relay_poll');
    expect(context).not.toContain('line 09999');
    expect((await settledOf(root, 'bob')).has(key), 'not consumed by the hook').toBe(false);

    const bob = await serve({ home: root, name: 'bob' });
    const polled = await bob.call('relay_poll');
    expect(polled.text).toContain(body.split('\n').join('\n    '));
    // Consumed once the answer has been written out: just after the client got it.
    await waitFor('the message to be consumed', async () => (await settledOf(root, 'bob')).has(key));
    expect((await settledOf(root, 'bob')).get(key)?.kind).toBe('consumed');
  });

  it('INV-ONCE: `poll --name bob` into a slow pipe prints all of a 500 KB message, and only then is it consumed', async () => {
    const root = await tempDir();
    const body = lines(7_000, 72);
    expect(body.length).toBeGreaterThan(500_000);
    const key = await mailTo(root, 'bob', body);

    const child = spawnCli(['poll', '--name', 'bob'], { env: { RELAY_HOME: root } });
    // Nobody reads for now: the pipe fills at 64 KiB and the write cannot complete.
    child.process.stdout?.pause();
    await waitFor('the poll to take the message', async () =>
      (await fs.readdir(path.join(root, 'leases', 'bob')).catch(() => [])).length > 0 ? true : undefined,
    );
    expect(child.running).toBe(true);
    expect((await settledOf(root, 'bob')).has(key), 'not consumed while its answer is in the pipe').toBe(
      false,
    );

    child.process.stdout?.resume();
    expect(await child.exited).toBe(0);
    expect(child.stdout()).toContain(body.split('\n').join('\n    '));
    expect(child.stdout().length).toBeGreaterThan(body.length);
    expect((await settledOf(root, 'bob')).get(key)?.kind).toBe('consumed');
  });
});

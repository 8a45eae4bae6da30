import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Check } from '../../src/relay/doctor.js';
import { defer, tempDir } from '../support/cleanup.js';
import { childEnv } from '../support/env.js';
import { FakeMessagingSocket } from '../support/native-socket.js';
import { runCli, spawnCli } from '../support/processes.js';
import { joinOnce, sentId, sentTo, settledOf } from '../support/store.js';
import { waitFor } from '../support/wait.js';

/** `claude-relay doctor` and `claude-relay watch` as a person runs them, on a temp RELAY_HOME and HOME. */

async function setup(): Promise<{ root: string; home: string; env: Record<string, string> }> {
  const root = await tempDir('relay-store-');
  const home = await tempDir('relay-home-');
  return { root, home, env: childEnv({ RELAY_HOME: root, HOME: home }) };
}

/** Each printed check: `ok  `, `warn` or `FAIL`, its name, and the fix printed under a failure. */
function parseReport(stdout: string): Array<{ status: string; name: string; fix?: string }> {
  const out: Array<{ status: string; name: string; fix?: string }> = [];
  for (const line of stdout.split('\n').filter(Boolean)) {
    const fix = /^ {5}fix: (.+)$/.exec(line);
    const last = out[out.length - 1];
    if (fix && last) last.fix = fix[1] as string;
    else {
      const m = /^(ok {2}|warn|FAIL) ((?:canary: )?[^:]+): /.exec(line);
      if (!m) throw new Error(`unexpected doctor line: ${JSON.stringify(line)}`);
      out.push({ status: (m[1] as string).trim(), name: m[2] as string });
    }
  }
  return out;
}

describe('claude-relay doctor', () => {
  it('on a fresh store: exit 0, every check ok or warn, a fix under each warning', async () => {
    const { env, home } = await setup();
    const ran = await runCli(['doctor'], { env, cwd: home });
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    const report = parseReport(ran.stdout);
    expect(report.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'store',
        'clock',
        'temp files',
        'identity',
        'canary: poll',
        'canary: long-poll',
        'canary: hook',
      ]),
    );
    for (const c of report) expect(['ok', 'warn']).toContain(c.status);
    // No hooks in this HOME: a warning that says what to run.
    expect(report.find((c) => c.name === 'Claude Code hooks')).toEqual({
      status: 'warn',
      name: 'Claude Code hooks',
      fix: 'run claude-relay install',
    });
  });

  it('--json lists the same checks; after install the hooks check is ok', async () => {
    const { env, home } = await setup();
    expect((await runCli(['install', '--command', 'claude-relay'], { env, cwd: home })).code).toBe(0);
    const ran = await runCli(['doctor', '--json'], { env, cwd: home });
    expect(ran.code).toBe(0);
    const checks = JSON.parse(ran.stdout) as Check[];
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(checks.find((c) => c.name === 'Claude Code hooks')?.ok).toBe(true);
  });

  it('inside Claude Code (the messaging socket set) a canary goes the native way; outside it says so', async () => {
    const { env, home } = await setup();
    const outside = JSON.parse((await runCli(['doctor', '--json'], { env, cwd: home })).stdout) as Check[];
    expect(outside.find((c) => c.name === 'native inbox')?.detail).toMatch(/^not available here/);
    const fake = await FakeMessagingSocket.start(await tempDir('relay-sock-'));
    defer(() => fake.close());
    const ran = await runCli(['doctor', '--json'], { env: { ...env, ...fake.env }, cwd: home });
    const native = (JSON.parse(ran.stdout) as Check[]).find((c) => c.name === 'native inbox');
    expect(native).toMatchObject({ ok: true, detail: expect.stringContaining('accepted a canary') });
    expect(fake.posts.map((p) => p.text)).toEqual([expect.stringMatching(/^claude-relay doctor: a canary/)]);
    await fake.close();
    const refused = await runCli(['doctor', '--json'], { env: { ...env, ...fake.env }, cwd: home });
    expect(refused.code).toBe(1);
    expect((JSON.parse(refused.stdout) as Check[]).find((c) => c.name === 'native inbox')?.ok).toBe(false);
  });

  it('a store it cannot write to: FAIL with a fix, exit 1', async () => {
    const { env, root, home } = await setup();
    // tmp/ is where every event is written first; a file in its place makes every write fail.
    await fs.writeFile(path.join(root, 'tmp'), 'not a folder');
    const ran = await runCli(['doctor'], { env, cwd: home });
    expect(ran.code).toBe(1);
    const [store] = parseReport(ran.stdout);
    expect(store).toMatchObject({ status: 'FAIL', name: 'store' });
    expect(store?.fix).toMatch(/RELAY_HOME/);
  });

  it('stray temporary files from interrupted writes: FAIL, fixed by clean', async () => {
    const { env, root, home } = await setup();
    const stray = path.join(root, 'tmp', '123-abc.tmp');
    await fs.mkdir(path.dirname(stray), { recursive: true });
    await fs.writeFile(stray, '{"half":');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await fs.utimes(stray, hourAgo, hourAgo);
    const ran = await runCli(['doctor'], { env, cwd: home });
    expect(ran.code).toBe(1);
    expect(parseReport(ran.stdout).find((c) => c.name === 'temp files')).toEqual({
      status: 'FAIL',
      name: 'temp files',
      fix: 'run claude-relay clean',
    });
  });
});

describe('claude-relay watch', () => {
  /** Starts `watch` and waits for it to say it is watching, so what is sent next is sent after it started. */
  async function startWatch(env: Record<string, string>, args: string[]) {
    const watch = spawnCli(['watch', ...args], { env });
    await waitFor('watch to start', () => watch.stderr().includes('watching'));
    return watch;
  }

  it('INV-WATCH-READS: prints a message sent after it started, and leaves it for the session', async () => {
    const { env, root } = await setup();
    await joinOnce(root, 'apix');
    const watch = await startWatch(env, ['apix']);
    const sent = await runCli(
      ['send', 'apix', 'look but do not take', '--from', 'ops', '--type', 'request'],
      {
        env,
      },
    );
    const id = sentId(sent.stdout);
    const line = await waitFor('the message to be printed', () =>
      watch
        .stdout()
        .split('\n')
        .find((l) => l.includes(`#${id}`)),
    );
    expect(line).toMatch(
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d \\[request\\|local\\|cli\\] From ops: #${id} look but do not take$`),
    );
    watch.process.kill('SIGTERM');
    expect(await watch.exited).toBe(0);

    expect(await settledOf(root, 'apix')).toHaveProperty('size', 0);
    const polled = await runCli(['poll', '--name', 'apix', '--json'], { env });
    expect(
      (JSON.parse(polled.stdout) as { messages: Array<{ id: string }> }).messages.map((m) => m.id),
    ).toEqual([id]);
  });

  it('INV-ONCE / INV-VIA: watch --consume takes what it prints; a poll then finds nothing', async () => {
    const { env, root } = await setup();
    await joinOnce(root, 'apix');
    const watch = await startWatch(env, ['apix', '--consume']);
    expect(watch.stderr()).toContain('(taking messages)');
    const id = sentId((await runCli(['send', 'apix', 'take me'], { env })).stdout);
    await waitFor('the message to be printed', () => watch.stdout().includes(`#${id} take me`));
    await waitFor('the message to be settled', async () => (await settledOf(root, 'apix')).size === 1);
    const [m] = await sentTo(root, 'apix');
    expect((await settledOf(root, 'apix')).get(m?.key ?? '')).toMatchObject({ kind: 'consumed', via: 'cli' });
    const polled = await runCli(['poll', '--name', 'apix'], { env });
    expect(polled.stdout).toBe('No new messages.\n');
  });

  it('refuses a name that is not a session name', async () => {
    const { env } = await setup();
    const ran = await runCli(['watch', '../etc'], { env });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/name/);
  });
});

import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defer, tempDir } from '../support/cleanup.js';
import { childEnv } from '../support/env.js';
import { type Ran, spawnCli } from '../support/processes.js';
import { joinOnce } from '../support/store.js';
import { until } from '../support/wait.js';

/**
 * Hostile entries in the store, each kind in its own store: poll, status, clean, the hook and a send each
 * finish within a bound (a hang is a failure, not a slow test), real mail is still delivered, the bad entry
 * is never read into an answer, and clean moves it into quarantine/.
 */

const SECRET = 'SECRET_hostile';
const KEY = '1700000000000-00000000-zzzzzz';
const BOUND_MS = 20_000;

function sentText(to: string, body: string, key = KEY): string {
  return JSON.stringify({
    v: 1,
    kind: 'sent',
    key,
    id: key.slice(-6),
    at: key.slice(0, 22),
    sentAt: 1_700_000_000_000,
    from: 'mallory',
    machine: 'box',
    to,
    type: 'info',
    body,
    ttlMs: 30 * 86_400_000,
  });
}

/** Runs the CLI, killed (and the test failed) if it does not finish within the bound. */
async function bounded(root: string, args: string[], input = ''): Promise<Ran> {
  const child = spawnCli(args, {
    env: childEnv({ RELAY_HOME: root, HOME: root }),
    cwd: path.join(root, 'bob'),
  });
  child.process.stdin?.end(input);
  const code = await Promise.race([child.exited, until(BOUND_MS).then(() => 'hung' as const)]);
  if (code === 'hung') {
    await child.stop('SIGKILL');
    throw new Error(`claude-relay ${args.join(' ')} hung on a hostile store`);
  }
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

const prompt = (root: string) =>
  JSON.stringify({
    session_id: 's1',
    transcript_path: '/tmp/t.jsonl',
    cwd: path.join(root, 'bob'),
    hook_event_name: 'UserPromptSubmit',
    prompt: 'hi',
  });

type Plant = (root: string) => Promise<string>;
const at = (root: string, rel: string) => path.join(root, rel);
const mk = async (file: string) => {
  await fs.mkdir(path.dirname(file), { recursive: true });
  return file;
};
const fifo =
  (rel: string): Plant =>
  async (root) => {
    const file = await mk(at(root, rel));
    execFileSync('mkfifo', [file]);
    return file;
  };
const write =
  (rel: string, text: (root: string) => string | Buffer): Plant =>
  async (root) => {
    const file = await mk(at(root, rel));
    await fs.writeFile(file, text(root));
    return file;
  };

const KINDS: [string, Plant][] = [
  ['FIFO in inbox', fifo(`inbox/bob/${KEY}.json`)],
  ['FIFO in sessions', fifo('sessions/bob/1700000000000-00000000-aaaaaaaa.json')],
  ['FIFO in settled', fifo(`settled/bob/${KEY}.json`)],
  ['FIFO as a lease', fifo(`leases/bob/${KEY}.1.json`)],
  [
    'folder named like an event',
    async (root) => {
      const dir = at(root, `inbox/bob/${KEY}.json`);
      await fs.mkdir(dir, { recursive: true });
      return dir;
    },
  ],
  // Past the file bound: never read at all.
  ['huge event file', write(`inbox/bob/${KEY}.json`, () => sentText('bob', SECRET.padEnd(7_000_000, 'x')))],
  // Under the file bound, over the body bound: read, refused by the schema.
  [
    'body over the limit',
    write(`inbox/bob/${KEY}.json`, () => sentText('bob', SECRET.padEnd(2_000_000, 'x'))),
  ],
  [
    'symbolic link event',
    async (root) => {
      const outside = await tempDir('relay-outside-');
      await fs.writeFile(path.join(outside, 'secret.json'), sentText('bob', SECRET));
      const file = await mk(at(root, `inbox/bob/${KEY}.json`));
      await fs.symlink(path.join(outside, 'secret.json'), file);
      return file;
    },
  ],
  ['empty file', write(`inbox/bob/${KEY}.json`, () => '')],
  ['truncated JSON', write(`inbox/bob/${KEY}.json`, () => sentText('bob', SECRET).slice(0, 80))],
  [
    'wrong-kind event',
    write(`inbox/bob/${KEY}.json`, () =>
      JSON.stringify({
        v: 1,
        kind: 'left',
        name: 'bob',
        instance: 'aaaaaaaa',
        at: KEY.slice(0, 22),
        atMs: 1,
        reason: SECRET,
      }),
    ),
  ],
  ['bad name', write('inbox/bob/not-a-key.json', () => sentText('bob', SECRET))],
  [
    'socket',
    async (root) => {
      const file = await mk(at(root, `inbox/bob/${KEY}.json`));
      const server = net.createServer().listen(file);
      await new Promise((resolve) => server.once('listening', resolve));
      defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
      return file;
    },
  ],
  ['corrupt snapshot', write('snapshots/snapshot.json', () => `{"v":1,"totals":{"bob":${SECRET}`)],
];

describe('INV-HOSTILE: a bad entry in the store is reported and quarantined, never read, never fatal', () => {
  it.each(KINDS)('%s: poll, status, hook, send and clean finish, and real mail arrives', async (_, plant) => {
    const root = await tempDir();
    await fs.mkdir(path.join(root, 'bob'));
    await joinOnce(root, 'bob');
    const planted = await plant(root);

    const send1 = await bounded(root, ['send', 'bob', 'real mail one']);
    expect(send1.code).toBe(0);
    const status = await bounded(root, ['status']);
    expect(status.code).toBe(0);
    const hook = await bounded(root, ['hook'], prompt(root));
    expect(hook.code).toBe(0);
    expect(hook.stdout).toContain('real mail one');
    await bounded(root, ['send', 'bob', 'real mail two']);
    const poll = await bounded(root, ['poll', '--name', 'bob']);
    expect(poll.code).toBe(0);
    expect(poll.stdout).toContain('real mail two');
    const clean = await bounded(root, ['clean']);
    expect(clean.stderr).not.toMatch(/Cannot write|failed while/);
    expect(clean.code).toBe(0);
    const after = await bounded(root, ['status']);
    expect(after.code).toBe(0);

    for (const ran of [send1, status, hook, poll, clean, after]) expect(ran.stdout).not.toContain(SECRET);
    // Moved aside whole, under its own path in quarantine/; a corrupt snapshot before a new one replaced it.
    const rel = path.relative(root, planted);
    await expect(fs.lstat(path.join(root, 'quarantine', rel))).resolves.toBeDefined();
    if (rel === 'snapshots/snapshot.json') {
      expect(JSON.parse(await fs.readFile(planted, 'utf8'))).toMatchObject({ v: 1 });
      expect(await fs.readFile(path.join(root, 'quarantine', rel), 'utf8')).toContain(SECRET);
    } else {
      await expect(fs.lstat(planted)).rejects.toThrow();
    }
  });
});

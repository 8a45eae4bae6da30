import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanStore } from '../../src/relay/clean.js';
import { pollInbox } from '../../src/relay/poll.js';
import { sendMessage } from '../../src/relay/send.js';
import { filesUnder, T0, useHome } from '../support/home.js';

const home = useHome();

const CORRUPT = `${T0}-00000000-cccccc.json`;
const FUTURE = `${T0}-00000001-ffffff.json`;
const MISPLACED = `${T0}-00000002-mmmmmm.json`;
const WRONG_NAMES = ['notes.txt', 'hello.json', '.DS_Store'];

/** Puts a corrupt file, a newer-format file, a misplaced event and some stray names into bob's inbox. */
async function plantBadFiles(): Promise<string> {
  const dir = path.join(home.root, 'inbox', 'bob');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, CORRUPT), '{"v":1,"kind":"sent","key":');
  const future = { v: 2, kind: 'sent', key: FUTURE.slice(0, -5), to: 'bob', body: 'from the future' };
  await fs.writeFile(path.join(dir, FUTURE), JSON.stringify(future));
  const forCarol = {
    v: 1,
    kind: 'sent',
    key: MISPLACED.slice(0, -5),
    id: 'mmmmmm',
    at: `${T0}-00000002`,
    sentAt: T0,
    from: 'mallory',
    machine: 'box',
    to: 'carol',
    type: 'info',
    body: 'not yours',
    ttlMs: 60_000,
  };
  await fs.writeFile(path.join(dir, MISPLACED), JSON.stringify(forCarol));
  for (const name of WRONG_NAMES) await fs.writeFile(path.join(dir, name), 'stray');
  return dir;
}

describe('INV-BAD-INPUT: bad files are reported and skipped, never fatal, never deleted', () => {
  it('given bad files in an inbox, when bob polls, then he gets the good message and each bad file is reported', async () => {
    const bob = await home.start('bob');
    await sendMessage(home.context('alice'), { to: 'bob', message: 'good' });
    const dir = await plantBadFiles();
    const got = await bob.poll({ via: 'poll' });
    expect(got.messages.map((m) => m.body)).toEqual(['good']);
    const reasons = Object.fromEntries(home.problems.map((p) => [path.basename(p.file), p.reason]));
    expect(reasons[CORRUPT]).toBe('is not valid JSON');
    expect(reasons[FUTURE]).toBe('has format version 2; upgrade claude-relay to read it');
    expect(reasons[MISPLACED]).toBe('holds a sent event that does not belong in inbox/bob');
    for (const name of WRONG_NAMES) expect(reasons[name]).toBe('is not a message file name the relay writes');
    expect(home.problems.every((p) => p.file.startsWith(dir))).toBe(true);
    // Never deleted, never settled.
    expect((await fs.readdir(dir)).sort()).toEqual([CORRUPT, FUTURE, MISPLACED, ...WRONG_NAMES].sort());
    expect(await fs.readdir(path.join(home.root, 'settled', 'bob'))).toHaveLength(1);
  });

  it('reports each bad file once per store, however often the inbox is polled', async () => {
    const bob = await home.start('bob');
    await plantBadFiles();
    for (let i = 0; i < 3; i++) await bob.poll({ via: 'poll' });
    const files = home.problems.map((p) => path.basename(p.file));
    expect(files.sort()).toEqual([CORRUPT, FUTURE, MISPLACED, ...WRONG_NAMES].sort());
  });

  it('given a misplaced message, then carol does not get it through bob’s inbox either', async () => {
    await home.start('carol');
    await plantBadFiles();
    expect((await pollInbox(home.context('carol'), { via: 'poll' })).messages).toEqual([]);
  });

  it('given bad files in the sessions area, then listing sessions skips and reports them', async () => {
    const api = await home.start('api');
    const sessions = path.join(home.root, 'sessions');
    await fs.mkdir(path.join(sessions, 'CON'), { recursive: true });
    await fs.mkdir(path.join(sessions, 'web'), { recursive: true });
    await fs.writeFile(path.join(sessions, 'web', 'garbage.json'), '{}');
    await fs.writeFile(path.join(sessions, 'web', `${T0}-00000000-abcdefgh.json`), 'not json');
    await fs.writeFile(
      path.join(sessions, 'web', `${T0}-00000001-abcdefgi.json`),
      JSON.stringify({
        v: 1,
        kind: 'left',
        name: 'db',
        instance: 'abcdefgi',
        at: `${T0}-00000001`,
        atMs: T0,
        reason: 'exit',
      }),
    );
    expect((await api.sessions()).map((s) => s.name)).toEqual(['api']);
    expect(home.problems.map((p) => [path.relative(sessions, p.file), p.reason]).sort()).toEqual([
      ['CON', 'is not a valid session name'],
      [`web/${T0}-00000000-abcdefgh.json`, 'is not valid JSON'],
      [`web/${T0}-00000001-abcdefgi.json`, 'holds a left event that does not belong in sessions/web'],
      ['web/garbage.json', 'is not a session event file name'],
    ]);
  });

  it('given bad files, when clean runs, then they move to quarantine/ under their path, and the newer format stays', async () => {
    await home.start('bob');
    await sendMessage(home.context('alice'), { to: 'bob', message: 'unread' });
    await plantBadFiles();
    const report = await cleanStore(home.context('cli'));
    const moved = report.quarantined.map((q) => path.relative(home.root, q)).sort();
    expect(moved).toEqual(
      [CORRUPT, MISPLACED, ...WRONG_NAMES].map((f) => `quarantine/inbox/bob/${f}`).sort(),
    );
    for (const q of report.quarantined) expect((await fs.stat(q)).isFile()).toBe(true);
    expect(await fs.readFile(path.join(home.root, 'quarantine/inbox/bob', CORRUPT), 'utf8')).toBe(
      '{"v":1,"kind":"sent","key":',
    );
    // A file from a newer claude-relay is left for that version to deliver; the unread message stays.
    const left = await fs.readdir(path.join(home.root, 'inbox', 'bob'));
    expect(left).toHaveLength(2);
    expect(left).toContain(FUTURE);
    expect((await pollInbox(home.context('bob'), { via: 'poll' })).messages.map((m) => m.body)).toEqual([
      'unread',
    ]);
  });

  it('given a poll after clean, then nothing more is reported for the quarantined files', async () => {
    await home.start('bob');
    await plantBadFiles();
    await cleanStore(home.context('cli'));
    home.problems.length = 0;
    await pollInbox(home.context('bob'), { via: 'poll' });
    expect(home.problems.map((p) => path.basename(p.file))).toEqual([FUTURE]);
    expect((await filesUnder(path.join(home.root, 'quarantine'))).length).toBe(5);
  });
});

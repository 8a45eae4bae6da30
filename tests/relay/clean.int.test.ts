import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../src/errors.js';
import { readSnapshot } from '../../src/log/snapshot.js';
import { cleanStore } from '../../src/relay/clean.js';
import { LIVE_WINDOW_MS } from '../../src/relay/config.js';
import { peekInbox, pollInbox } from '../../src/relay/poll.js';
import { sendMessage } from '../../src/relay/send.js';
import { readStatus } from '../../src/relay/status.js';
import { filesUnder, readJson, useHome } from '../support/home.js';

const home = useHome();

async function segmentEvents(): Promise<{ kind: string; [k: string]: unknown }[]> {
  const dir = path.join(home.root, 'snapshots');
  const lines: string[] = [];
  for (const f of (await fs.readdir(dir)).filter((f) => f.startsWith('segment-'))) {
    lines.push(...(await fs.readFile(path.join(dir, f), 'utf8')).split('\n').filter((l) => l !== ''));
  }
  return lines.map((l) => JSON.parse(l));
}

describe('INV-COMPACT: clean packs settled messages and keeps every answer', () => {
  it('given read and unread mail, when clean runs, then unread survives and counts are unchanged', async () => {
    const bob = await home.start('bob');
    const alice = home.context('alice');
    for (let i = 0; i < 5; i++) await sendMessage(alice, { to: 'bob', message: `m${i}` });
    await bob.poll({ via: 'poll', maxMessages: 3 });
    const before = await readStatus(bob.ctx);
    const pendingBefore = await peekInbox(bob.ctx);
    expect(before.inboxes).toEqual([{ name: 'bob', queued: 2, delivered: 3, expired: 0 }]);

    const report = await cleanStore(home.context('cli'));

    expect([report.packed, report.expired, report.quarantined]).toEqual([3, 0, []]);
    expect(report.segment).toMatch(/^segment-\d{13}-\d{8}\.jsonl$/);
    expect((await readStatus(bob.ctx)).inboxes).toEqual(before.inboxes);
    expect(await peekInbox(bob.ctx)).toEqual(pendingBefore);
    expect(await filesUnder(path.join(home.root, 'archive'))).toEqual([]);
    expect(await filesUnder(path.join(home.root, 'settled'))).toEqual([]);
    const packed = await segmentEvents();
    expect(packed.filter((e) => e.kind === 'sent').map((e) => e.body)).toEqual(['m0', 'm1', 'm2']);
    expect(packed.filter((e) => e.kind === 'consumed')).toHaveLength(3);
    expect((await bob.poll({ via: 'poll' })).messages.map((m) => m.body)).toEqual(['m3', 'm4']);
  });

  it('given cleans from new processes in one frozen ms, then their segments do not collide and counts add up', async () => {
    const bob = await home.start('bob');
    const alice = home.context('alice');
    await sendMessage(alice, { to: 'bob', message: 'a' });
    await bob.poll({ via: 'poll' });
    await cleanStore(home.context('cli'));
    const again = await cleanStore(home.context('cli'));
    expect(again.packed).toBe(0);
    await sendMessage(alice, { to: 'bob', message: 'b' });
    await bob.poll({ via: 'poll' });
    await cleanStore(home.context('cli'));
    const snapshot = await readSnapshot(bob.ctx.store);
    expect(snapshot.totals).toEqual({ bob: { delivered: 2, expired: 0, returned: 0 } });
    expect(snapshot.segments).toHaveLength(2);
    expect((await readStatus(bob.ctx)).inboxes).toEqual([
      { name: 'bob', queued: 0, delivered: 2, expired: 0 },
    ]);
  });

  it('given an unread message past its TTL, then clean settles it as expired and counts it', async () => {
    home.limits = { ttlMs: 60_000 };
    const bob = await home.start('bob');
    const { event } = await sendMessage(home.context('alice'), { to: 'bob', message: 'too late' });
    await sendMessage(home.context('alice'), { to: 'bob', message: 'in time' });
    home.clock.advance(30_000);
    await sendMessage(home.context('carol'), { to: 'bob', message: 'fresh' });
    home.clock.advance(30_000);
    const report = await cleanStore(home.context('cli'));
    expect([report.expired, report.packed]).toEqual([2, 2]);
    expect((await readStatus(bob.ctx)).inboxes).toEqual([
      { name: 'bob', queued: 1, delivered: 0, expired: 2 },
    ]);
    const expired = (await segmentEvents()).filter((e) => e.kind === 'expired');
    expect(expired.map((e) => e.key)).toContain(event.key);
    expect((await bob.poll({ via: 'poll' })).messages.map((m) => m.body)).toEqual(['fresh']);
  });

  it('given a poll that settled a message but died before archiving it, then clean archives and counts it once', async () => {
    const bob = await home.start('bob');
    const { event } = await sendMessage(home.context('alice'), { to: 'bob', message: 'half' });
    const won = await bob.ctx.store.settle({
      v: 1,
      kind: 'consumed',
      key: event.key,
      to: 'bob',
      atMs: home.clock.now(),
      via: 'poll',
      by: { name: 'bob', machine: 'box', pid: 1, instance: bob.ctx.me.instance },
    });
    expect(won).toBe(true);
    const report = await cleanStore(home.context('cli'));
    expect([report.archived, report.packed]).toEqual([1, 1]);
    expect((await readStatus(bob.ctx)).inboxes).toEqual([
      { name: 'bob', queued: 0, delivered: 1, expired: 0 },
    ]);
    expect((await bob.poll({ via: 'poll' })).messages).toEqual([]);
  });

  it('given an empty store, then clean writes an empty snapshot and reports nothing done', async () => {
    const report = await cleanStore(home.context('cli'));
    expect(report).toEqual({
      expired: 0,
      archived: 0,
      packed: 0,
      staleSessions: 0,
      droppedInstances: 0,
      tempRemoved: 0,
      quarantined: [],
    });
    expect(await readJson(path.join(home.root, 'snapshots', 'snapshot.json'))).toMatchObject({
      v: 1,
      totals: {},
      segments: [],
    });
  });
});

describe('clean: temp files, dead sessions and the lock', () => {
  it('given old and fresh temp files, then only the old ones are removed', async () => {
    const tmp = path.join(home.root, 'tmp');
    await fs.mkdir(tmp, { recursive: true });
    await fs.writeFile(path.join(tmp, 'old.tmp'), 'half an event');
    await fs.writeFile(path.join(tmp, 'fresh.tmp'), 'being written');
    const now = home.clock.now() / 1000;
    await fs.utimes(path.join(tmp, 'old.tmp'), now - 11 * 60, now - 11 * 60);
    await fs.utimes(path.join(tmp, 'fresh.tmp'), now - 60, now - 60);
    // INV-ATOMIC: readers never look at temp files.
    await home.start('bob');
    expect((await pollInbox(home.context('bob'), { via: 'poll' })).messages).toEqual([]);
    expect(home.problems).toEqual([]);
    const report = await cleanStore(home.context('cli'));
    expect(report.tempRemoved).toBe(1);
    expect(await fs.readdir(tmp)).toEqual(['fresh.tmp']);
  });

  it('INV-LIVENESS: given a session whose pid died, then clean marks it left and packs its files', async () => {
    const web = await home.start('web', { pid: 424_242 });
    // Its last heartbeats share one frozen ms: the `left` written by clean must still sort after them.
    for (let i = 0; i < 5; i++) await web.heartbeat();
    const api = await home.start('api');
    const cli = home.context('cli', { isPidAlive: (pid) => pid !== 424_242 });
    const report = await cleanStore(cli);
    expect([report.staleSessions, report.droppedInstances]).toEqual([1, 1]);
    expect(await fs.readdir(path.join(home.root, 'sessions', 'web'))).toEqual([]);
    const left = (await segmentEvents()).filter((e) => e.kind === 'left');
    expect(left).toEqual([
      expect.objectContaining({ name: 'web', instance: web.ctx.me.instance, reason: 'stale' }),
    ]);
    expect((await api.sessions()).map((s) => s.name)).toEqual(['api']);
    expect((await readStatus(cli)).sessions.map((s) => s.name)).toEqual(['api']);
  });

  it('INV-LIVENESS: given a session silent past the window, then clean marks it left; a live one is kept', async () => {
    await home.start('web');
    home.clock.advance(LIVE_WINDOW_MS + 1);
    const api = await home.start('api');
    const report = await cleanStore(home.context('cli'));
    expect(report.staleSessions).toBe(1);
    expect(await fs.readdir(path.join(home.root, 'sessions', 'api'))).toHaveLength(1);
    expect((await api.sessions()).map((s) => s.name)).toEqual(['api']);
  });

  it('given another clean holds the lock and is alive, then clean refuses and says to wait', async () => {
    await fs.mkdir(path.join(home.root, 'snapshots'), { recursive: true });
    await fs.writeFile(path.join(home.root, 'snapshots', 'clean.lock'), '515151');
    const e = await cleanStore(home.context('cli')).catch((x: unknown) => x);
    expect(isRelayError(e) && e.code).toBe('store_unwritable');
    expect((e as Error).message).toBe(
      `Another clean (pid 515151) is running on ${home.root}; wait for it to finish.`,
    );
    expect(await fs.readFile(path.join(home.root, 'snapshots', 'clean.lock'), 'utf8')).toBe('515151');
  });

  it('given a lock left by a dead clean, then clean takes it over and releases it after', async () => {
    await fs.mkdir(path.join(home.root, 'snapshots'), { recursive: true });
    await fs.writeFile(path.join(home.root, 'snapshots', 'clean.lock'), '515151');
    await cleanStore(home.context('cli', { isPidAlive: () => false }));
    expect(await fs.readdir(path.join(home.root, 'snapshots'))).toEqual(['snapshot.json']);
  });
});

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsumedEvent, HeartbeatEvent, SentEvent } from '../../src/log/events.js';
import { type Problem, Store } from '../../src/log/store.js';
import { consumed, heartbeat, keyOf, left, sent } from '../support/events.js';
import { makeTempDir, T0 } from '../support/home.js';

let root = '';
let store: Store;
const problems: Problem[] = [];
beforeEach(async () => {
  root = await makeTempDir('relay-store-');
  problems.length = 0;
  store = new Store(root, (p) => problems.push(p));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const k = (n: number, id = 'abc123') => keyOf(T0, n, id);
const msg = (n: number, over: Partial<SentEvent> = {}) => sent({ key: k(n), ...over });

describe('Store: the layout of the log on disk', () => {
  it('appendSent puts a message in its recipient’s inbox and indexes it under its sender', async () => {
    await store.appendSent(msg(0), 'alice');
    await store.appendSent(msg(1));
    expect(await store.inboxKeys('bob')).toEqual([k(0), k(1)]);
    expect(await store.sentKeys('alice')).toEqual([k(0)]);
    expect(await store.readInbox('bob', k(1))).toEqual(msg(1));
  });

  it('lists an inbox in delivery (key) order, not in the order files were written', async () => {
    for (const n of [7, 2, 11, 0]) await store.appendSent(msg(n));
    expect(await store.inboxKeys('bob')).toEqual([k(0), k(2), k(7), k(11)]);
  });

  it('an absent inbox is empty, not an error', async () => {
    expect(await store.inboxKeys('nobody')).toEqual([]);
    expect(await store.readInbox('nobody', k(0))).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('INV-ONCE: settle is true for the first outcome and false for every later one', async () => {
    const first: ConsumedEvent = consumed(k(0));
    expect(await store.settle(first)).toBe(true);
    expect(await store.settle({ v: 1, kind: 'expired', key: k(0), to: 'bob', atMs: T0, reason: 'ttl' })).toBe(
      false,
    );
    expect(await store.readSettled('bob', k(0))).toEqual(first);
    expect(await store.readSettled('bob', k(1))).toBeUndefined();
  });

  it('archive moves a message out of the inbox, and a second archive is harmless', async () => {
    await store.appendSent(msg(0));
    await store.archive('bob', k(0));
    await store.archive('bob', k(0));
    expect(await store.inboxKeys('bob')).toEqual([]);
    expect(await fs.readdir(path.join(root, 'archive', 'bob'))).toEqual([`${k(0)}.json`]);
  });

  it('unindexSent drops index links but leaves the messages in their inboxes', async () => {
    await store.appendSent(msg(0), 'alice');
    await store.appendSent(msg(1), 'alice');
    await store.unindexSent('alice', [k(0)]);
    expect(await store.sentKeys('alice')).toEqual([k(1)]);
    expect(await store.inboxKeys('bob')).toEqual([k(0), k(1)]);
  });

  it('readArea returns every event of an area, skipping and reporting bad files', async () => {
    await store.appendSent(msg(0));
    await fs.writeFile(path.join(root, 'inbox', 'bob', `${k(1)}.json`), 'nope');
    await fs.writeFile(path.join(root, 'inbox', 'bob', 'readme.txt'), 'skipped quietly');
    expect(await store.readArea('inbox', 'bob')).toEqual([msg(0)]);
    expect(problems.map((p) => path.basename(p.file))).toEqual([`${k(1)}.json`]);
  });

  it('namesIn lists the names that have a directory in an area', async () => {
    await store.appendSent(msg(0, { to: 'carol' }), 'alice');
    await store.appendSent(msg(1));
    expect(await store.namesIn('inbox')).toEqual(['bob', 'carol']);
    expect(await store.namesIn('sent')).toEqual(['alice']);
    expect(await store.namesIn('archive')).toEqual([]);
  });
});

describe('Store: the sessions area', () => {
  const beat = (n: number, instance = 'aaaaaaaa'): HeartbeatEvent =>
    heartbeat({ at: `${T0}-0000000${n}`, instance });

  it('appendSessionEvent names the file <stamp>-<instance>.json', async () => {
    expect(await store.appendSessionEvent(beat(0))).toBe(`${T0}-00000000-aaaaaaaa.json`);
    expect(await fs.readdir(path.join(root, 'sessions', 'api'))).toEqual([`${T0}-00000000-aaaaaaaa.json`]);
  });

  it('compactSession removes only the instance’s own older files', async () => {
    await store.appendSessionEvent(beat(0));
    await store.appendSessionEvent(beat(1, 'bbbbbbbb'));
    await store.appendSessionEvent(beat(2));
    const keep = await store.appendSessionEvent(beat(3));
    await store.compactSession('api', 'aaaaaaaa', keep);
    expect(await fs.readdir(path.join(root, 'sessions', 'api'))).toEqual([
      `${T0}-00000001-bbbbbbbb.json`,
      `${T0}-00000003-aaaaaaaa.json`,
    ]);
  });

  it('latestSessionEvents reads only the newest file of each instance', async () => {
    await store.appendSessionEvent(beat(0));
    await store.appendSessionEvent(beat(1, 'bbbbbbbb'));
    const gone = left({ at: `${T0}-00000002` });
    await store.appendSessionEvent(gone);
    const events = await store.latestSessionEvents();
    expect(events.sort((a, b) => (a.instance < b.instance ? -1 : 1))).toEqual([gone, beat(1, 'bbbbbbbb')]);
  });

  it('quarantine keeps the relative path and refuses a file outside the store', async () => {
    await fs.mkdir(path.join(root, 'inbox', 'bob'), { recursive: true });
    const bad = path.join(root, 'inbox', 'bob', 'x.json');
    await fs.writeFile(bad, 'bad');
    const into = await store.quarantine(bad);
    expect(path.relative(root, into)).toBe(path.join('quarantine', 'inbox', 'bob', 'x.json'));
    expect(await fs.readFile(into, 'utf8')).toBe('bad');
    await expect(store.quarantine(path.join(root, '..', 'elsewhere.json'))).rejects.toThrow(
      /outside the store/,
    );
  });
});

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SentEvent } from '../../src/log/events.js';
import { readSnapshot } from '../../src/log/snapshot.js';
import { cleanStore } from '../../src/relay/clean.js';
import { sendMessage } from '../../src/relay/send.js';
import { readStatus } from '../../src/relay/status.js';
import { T0, useHome } from '../support/home.js';

const home = useHome();

/** Three messages to bob, all delivered: archived and settled, ready to be packed. */
async function delivered(): Promise<SentEvent[]> {
  const bob = await home.start('bob');
  const alice = home.context('alice');
  for (let i = 0; i < 3; i++) await sendMessage(alice, { to: 'bob', message: `m${i}` });
  return (await bob.poll({ via: 'poll' })).messages;
}

/** Does what a clean killed mid-staging left behind: some pairs moved into `snapshots/packing-<stamp>/`. */
async function stage(
  name: string,
  pairs: { key: string; archive: boolean; settled: boolean }[],
): Promise<string> {
  const staging = path.join(home.root, 'snapshots', name);
  await fs.mkdir(staging, { recursive: true });
  for (const { key, archive, settled } of pairs) {
    if (archive)
      await fs.rename(
        path.join(home.root, 'archive/bob', `${key}.json`),
        path.join(staging, `archive-bob-${key}.json`),
      );
    if (settled)
      await fs.rename(
        path.join(home.root, 'settled/bob', `${key}.json`),
        path.join(staging, `settled-bob-${key}.json`),
      );
  }
  return staging;
}

async function counts() {
  return (await readStatus(home.context('cli'))).inboxes;
}

const ALL = [{ name: 'bob', queued: 0, delivered: 3, expired: 0 }];

describe('INV-COMPACT: clean finishes what a crashed clean left, without counting twice', () => {
  it('given a staging folder with whole pairs, when clean runs, then it is packed and counted once', async () => {
    const messages = await delivered();
    expect(await counts()).toEqual(ALL);
    const staging = await stage(`packing-${T0}-00000005`, [
      { key: messages[0]?.key as string, archive: true, settled: true },
      { key: messages[1]?.key as string, archive: true, settled: true },
    ]);
    const report = await cleanStore(home.context('cli'));
    expect(report.packed).toBe(1);
    await expect(fs.stat(staging)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await counts()).toEqual(ALL);
    expect((await readSnapshot(home.context('cli').store)).totals).toEqual({
      bob: { delivered: 3, expired: 0, returned: 0 },
    });
    await cleanStore(home.context('cli'));
    expect(await counts()).toEqual(ALL);
  });

  it('given a staging folder whose segment the snapshot already lists, then it is only removed', async () => {
    const messages = await delivered();
    const first = await cleanStore(home.context('cli'));
    expect(first.segment).toBeDefined();
    // The crash hit after the snapshot was written and before the staging folder was removed.
    const name = (first.segment as string).replace(/^segment-/, 'packing-').replace(/\.jsonl$/, '');
    const staging = path.join(home.root, 'snapshots', name);
    await fs.mkdir(staging);
    for (const m of messages) {
      await fs.writeFile(path.join(staging, `archive-bob-${m.key}.json`), JSON.stringify(m));
    }
    const segmentBefore = await fs.readFile(
      path.join(home.root, 'snapshots', first.segment as string),
      'utf8',
    );
    await cleanStore(home.context('cli'));
    await expect(fs.stat(staging)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await counts()).toEqual(ALL);
    expect(await fs.readFile(path.join(home.root, 'snapshots', first.segment as string), 'utf8')).toBe(
      segmentBefore,
    );
  });

  it('given a crash between moving a message and moving its outcome, then the outcome is still counted', async () => {
    const messages = await delivered();
    await stage(`packing-${T0}-00000005`, [
      { key: messages[0]?.key as string, archive: true, settled: false },
    ]);
    await cleanStore(home.context('cli'));
    expect(await counts()).toEqual(ALL);
    expect(await fs.readdir(path.join(home.root, 'settled/bob'))).toEqual([]);
  });

  it('given two leftover staging folders, then both are finished and listed', async () => {
    const messages = await delivered();
    await stage(`packing-${T0}-00000005`, [
      { key: messages[0]?.key as string, archive: true, settled: true },
    ]);
    await stage(`packing-${T0}-00000006`, [
      { key: messages[1]?.key as string, archive: true, settled: true },
    ]);
    await cleanStore(home.context('cli'));
    const snapshot = await readSnapshot(home.context('cli').store);
    expect(snapshot.segments.slice(0, 2).sort()).toEqual([
      `segment-${T0}-00000005.jsonl`,
      `segment-${T0}-00000006.jsonl`,
    ]);
    expect(snapshot.totals).toEqual({ bob: { delivered: 3, expired: 0, returned: 0 } });
    expect(await counts()).toEqual(ALL);
  });
});

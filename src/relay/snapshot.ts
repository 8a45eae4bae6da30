import { promises as fs } from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import type { Store } from '../log/store.js';

/**
 * The projection state that `clean` packed away: per inbox, how many messages were delivered or expired
 * before their events moved into an archive segment. Folding the snapshot with the remaining events gives
 * the same counts as folding the whole log did. Snapshots are the one file replaced in place, atomically.
 */
const SnapshotSchema = z.object({
  v: z.literal(1),
  at: z.string(),
  totals: z.record(
    z.string(),
    z.object({
      delivered: z.number().int().nonnegative(),
      expired: z.number().int().nonnegative(),
      returned: z.number().int().nonnegative().default(0),
    }),
  ),
  segments: z.array(z.string()),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

export const SNAPSHOT_FILE = 'snapshot.json';

export function emptySnapshot(): Snapshot {
  return { v: 1, at: '', totals: {}, segments: [] };
}

export async function readSnapshot(store: Store): Promise<Snapshot> {
  const file = path.join(store.paths.dir('snapshots'), SNAPSHOT_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return emptySnapshot();
  }
  try {
    return SnapshotSchema.parse(JSON.parse(text));
  } catch {
    store.report(file, 'is not a valid snapshot; its counts are left out');
    return emptySnapshot();
  }
}

export async function writeSnapshot(store: Store, snapshot: Snapshot): Promise<void> {
  const dir = store.paths.dir('snapshots');
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, SNAPSHOT_FILE), `${JSON.stringify(snapshot, null, 2)}\n`, {
    fsync: true,
  });
}

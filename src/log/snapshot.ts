import { promises as fs } from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import * as z from 'zod';
import type { StorePaths } from './paths.js';

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

/** What reading a snapshot needs of the store: where it is, and where to report a bad one. */
export interface SnapshotStore {
  readonly paths: StorePaths;
  report(file: string, reason: string): void;
}

export function emptySnapshot(): Snapshot {
  return { v: 1, at: '', totals: {}, segments: [] };
}

export async function readSnapshot(store: SnapshotStore): Promise<Snapshot> {
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

export async function writeSnapshot(store: SnapshotStore, snapshot: Snapshot): Promise<void> {
  const dir = store.paths.dir('snapshots');
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, SNAPSHOT_FILE), `${JSON.stringify(snapshot, null, 2)}\n`, {
    fsync: true,
  });
}

/** Writes an archive segment of `clean` (one event per line) beside the snapshot, replacing a partial one. */
export async function writeSegment(
  paths: StorePaths,
  segment: string,
  lines: readonly string[],
): Promise<void> {
  await writeFileAtomic(path.join(paths.dir('snapshots'), segment), `${lines.join('\n')}\n`, { fsync: true });
}

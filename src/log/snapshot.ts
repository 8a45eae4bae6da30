import { promises as fs } from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import * as z from 'zod';
import { readRegular } from './confined.js';
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
      /** Of the delivered, those handed to the client (native, channel); absent: none. */
      handed: z.number().int().nonnegative().optional(),
    }),
  ),
  segments: z.array(z.string()),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

export const SNAPSHOT_FILE = 'snapshot.json';

/** What a snapshot needs of the store: where it is, where to report a bad one, and where to move it aside. */
export interface SnapshotStore {
  readonly paths: StorePaths;
  report(file: string, reason: string): void;
  quarantine(file: string): Promise<string>;
}

type SnapshotRead = { readonly kind: 'none' } | { readonly kind: 'bad'; readonly reason: string } | Snapshot;

async function load(store: SnapshotStore, file: string): Promise<SnapshotRead> {
  const read = await readRegular(await store.paths.checked(file), 16 * 1024 * 1024).catch((e: unknown) => ({
    ok: false as const,
    missing: false,
    reason: e instanceof Error ? e.message : String(e),
  }));
  if (!read.ok) return read.missing ? { kind: 'none' } : { kind: 'bad', reason: read.reason };
  try {
    return SnapshotSchema.parse(JSON.parse(read.text));
  } catch {
    return { kind: 'bad', reason: 'is not a valid snapshot' };
  }
}

export function emptySnapshot(): Snapshot {
  return { v: 1, at: '', totals: {}, segments: [] };
}

export async function readSnapshot(store: SnapshotStore): Promise<Snapshot> {
  const file = path.join(store.paths.dir('snapshots'), SNAPSHOT_FILE);
  const read = await load(store, file);
  if ('v' in read) return read;
  if (read.kind === 'bad') store.report(file, `${read.reason}; its counts are left out`);
  return emptySnapshot();
}

export async function writeSnapshot(store: SnapshotStore, snapshot: Snapshot): Promise<void> {
  const dir = await store.paths.checked(store.paths.dir('snapshots'));
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, SNAPSHOT_FILE);
  // A bad snapshot (corrupt, a link, a FIFO) is moved aside before it is replaced, so its counts can still
  // be recovered by hand; write-file-atomic would also follow a link to write outside the store.
  if ((await fs.lstat(file).catch(() => undefined)) && !('v' in (await load(store, file)))) {
    await store.quarantine(file);
  }
  await writeFileAtomic(file, `${JSON.stringify(snapshot, null, 2)}\n`, {
    fsync: true,
  });
}

/** Writes an archive segment of `clean` (one event per line) beside the snapshot, replacing a partial one. */
export async function writeSegment(
  paths: StorePaths,
  segment: string,
  lines: readonly string[],
): Promise<void> {
  const file = await paths.checked(path.join(paths.dir('snapshots'), segment));
  await writeFileAtomic(file, `${lines.join('\n')}\n`, { fsync: true });
}

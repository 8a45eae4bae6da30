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

/** Where a segment is written while `clean` stages files: inside the staging folder, removed with it. */
const PARTIAL = '.segment.partial';

/**
 * A segment written as `clean` goes, one event a line, never held whole in memory. `finish` makes it
 * durable and moves it beside the snapshot; a crash before that leaves only the partial file in the staging
 * folder, which the next clean rewrites from the staged files.
 */
export class SegmentWriter {
  private buffered: string[] = [];
  private bytes = 0;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly paths: StorePaths,
    private readonly handle: fs.FileHandle,
    private readonly file: string,
  ) {}

  /** Starts (or restarts, truncating) the partial segment of a staging folder. */
  static async open(paths: StorePaths, staging: string): Promise<SegmentWriter> {
    await paths.checked(path.dirname(staging));
    await fs.mkdir(staging, { recursive: true });
    await paths.checked(staging);
    const file = path.join(staging, PARTIAL);
    return new SegmentWriter(paths, await fs.open(file, 'w'), file);
  }

  /** Adds one line; written out in chunks of about 32 KB, so lines are gone before they reach the old heap. */
  async add(line: string): Promise<void> {
    this.buffered.push(line);
    this.bytes += line.length + 1;
    if (this.bytes >= 32 * 1024) await this.flush();
  }

  private flush(): Promise<void> {
    const chunk = this.buffered.length === 0 ? '' : `${this.buffered.join('\n')}\n`;
    this.buffered = [];
    this.bytes = 0;
    this.writing = this.writing.then(() =>
      chunk === '' ? undefined : this.handle.write(chunk).then(() => {}),
    );
    return this.writing;
  }

  /** Writes the rest, fsyncs, and moves the segment into `snapshots/<segment>`, then fsyncs that folder. */
  async finish(segment: string): Promise<void> {
    await this.flush();
    await this.handle.sync();
    await this.close();
    const dir = await this.paths.checked(this.paths.dir('snapshots'));
    await fs.rename(this.file, path.join(dir, segment));
    const folder = await fs.open(dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }

  /** Closes the file (once); a partial segment left behind is rewritten by the next clean. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fsError, RelayError } from '../errors.js';
import type { StorePaths } from './paths.js';
import { type ReadResult, readEventFile } from './read.js';

const LOCK = 'clean.lock';

/** The areas whose files `clean` moves into a staging folder before packing them into a segment. */
type Packed = 'sessions' | 'archive' | 'settled';

/**
 * The files of `clean`: its lock, the `snapshots/packing-*` staging folders a segment is built from, and
 * `quarantine/`, where a corrupt or misplaced file is moved aside (never deleted).
 */
export class CompactionFiles {
  constructor(private readonly paths: StorePaths) {}

  /** One `clean` at a time: a second one would pack the same files twice. A dead holder's lock is taken over. */
  async lock(pid: number, isPidAlive: (pid: number) => boolean): Promise<() => Promise<void>> {
    const dir = this.paths.dir('snapshots');
    const file = path.join(dir, LOCK);
    await fs.mkdir(dir, { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await fs.writeFile(file, String(pid), { flag: 'wx' });
        return () => fs.rm(file, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          throw fsError(e, 'locking the store for clean', this.paths.root);
        const holder = Number(await fs.readFile(file, 'utf8').catch(() => ''));
        if (Number.isInteger(holder) && holder > 0 && isPidAlive(holder)) {
          throw new RelayError(
            'store_unwritable',
            `Another clean (pid ${holder}) is running on ${this.paths.root}; wait for it to finish.`,
          );
        }
        await fs.rm(file, { force: true });
      }
    }
    throw new RelayError('store_unwritable', `Could not lock ${this.paths.root} for clean; try again.`);
  }

  /** Names in `snapshots/`: the snapshot, segments, staging folders. */
  snapshotEntries(): Promise<string[]> {
    return fs.readdir(this.paths.dir('snapshots'));
  }

  /** The staging folder `snapshots/<name>`; created by the first file staged into it. */
  staging(name: string): string {
    return path.join(this.paths.dir('snapshots'), name);
  }

  async exists(staging: string): Promise<boolean> {
    return (await fs.stat(staging).catch(() => undefined)) !== undefined;
  }

  /** The staged event files (not the segment being written beside them). */
  async stagedFiles(staging: string): Promise<string[]> {
    return (await fs.readdir(staging)).filter((f) => !f.startsWith('.'));
  }

  readStaged(staging: string, file: string): Promise<ReadResult> {
    return readEventFile(path.join(staging, file));
  }

  /** Moves `area/<name>/<file>` into the staging folder as `as`; `ifPresent` skips a file that is not there. */
  async stage(
    staging: string,
    area: Packed,
    name: string,
    file: string,
    as: string,
    ifPresent = false,
  ): Promise<void> {
    const from = this.paths.file(area, name, file);
    if (ifPresent && !(await fs.stat(from).catch(() => undefined))) return;
    await fs.mkdir(staging, { recursive: true });
    await fs.rename(from, path.join(staging, as));
  }

  removeStaging(staging: string): Promise<void> {
    return fs.rm(staging, { recursive: true, force: true });
  }

  /** An entry of `area/<name>/` as it was listed, even one whose name the relay would not write. */
  entry(area: 'inbox' | 'archive', name: string, file: string): string {
    return path.join(this.paths.dir(area, name), file);
  }

  readEntry(area: 'inbox' | 'archive', name: string, file: string): Promise<ReadResult> {
    return readEventFile(this.entry(area, name, file));
  }

  /** Moves a bad file aside, keeping its path under `quarantine/`, so nothing is lost and readers stop tripping. */
  async quarantine(file: string): Promise<string> {
    const rel = path.relative(this.paths.root, file);
    if (rel.startsWith('..') || path.isAbsolute(rel))
      throw new Error(`refusing to quarantine ${file}: outside the store`);
    const base = path.join(this.paths.dir('quarantine'), rel);
    await fs.mkdir(path.dirname(base), { recursive: true });
    // link(2), not rename(2): an earlier file quarantined under the same path must not be replaced.
    for (let n = 0; ; n++) {
      const into = n === 0 ? base : `${base}.${n}`;
      try {
        await fs.link(file, into);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw e;
      }
      await fs.rm(file, { force: true });
      return into;
    }
  }
}

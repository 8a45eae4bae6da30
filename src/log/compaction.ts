import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fsError, RelayError } from '../errors.js';
import { readRegular } from './confined.js';
import type { StorePaths } from './paths.js';
import { type ReadResult, readEventFile } from './read.js';

const LOCK = 'clean.lock';

/** The areas whose files `clean` moves into a staging folder before packing them into a segment. */
type Packed = 'sessions' | 'archive' | 'settled';

/** `area/<name>/<file>`, to be staged as `as`. */
export interface StageMove {
  readonly area: Packed;
  readonly name: string;
  readonly file: string;
  readonly as: string;
}

/** Files `clean` reads or moves per batch: a folder is checked once for them, and their moves overlap. */
export const BATCH = 32;

/**
 * The files of `clean`: its lock, the `snapshots/packing-*` staging folders a segment is built from, and
 * `quarantine/`, where a corrupt or misplaced file is moved aside (never deleted).
 */
export class CompactionFiles {
  constructor(private readonly paths: StorePaths) {}

  /** One `clean` at a time: a second one would pack the same files twice. A dead holder's lock is taken over. */
  async lock(pid: number, isPidAlive: (pid: number) => boolean): Promise<() => Promise<void>> {
    const dir = await this.paths.checked(this.paths.dir('snapshots'));
    const file = path.join(dir, LOCK);
    await fs.mkdir(dir, { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await fs.writeFile(file, String(pid), { flag: 'wx' });
        return () => fs.rm(file, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          throw fsError(e, 'locking the store for clean', this.paths.root);
        const read = await readRegular(file, 64);
        const holder = Number(read.ok ? read.text : '');
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
  async snapshotEntries(): Promise<string[]> {
    return fs.readdir(await this.paths.checked(this.paths.dir('snapshots')));
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
    return (await fs.readdir(await this.paths.checked(staging))).filter((f) => !f.startsWith('.'));
  }

  async readStaged(staging: string, file: string): Promise<ReadResult> {
    return readEventFile(path.join(await this.paths.checked(staging), file));
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
    return this.stageAll(staging, [{ area, name, file, as }], ifPresent);
  }

  /**
   * Moves a batch of files into the staging folder. Each source folder and the staging folder are checked
   * once for the batch, not once per file: clean moves every consumed message, and the batch follows its
   * check at once (INV-CONFINED). Outcomes move only after every message of the batch has: a clean killed
   * in between leaves a staged message whose outcome is still in `settled/`, which the next clean brings
   * along (`completeStagedPairs`), never an outcome whose message is left behind.
   */
  async stageAll(staging: string, moves: readonly StageMove[], ifPresent = false): Promise<void> {
    if (moves.length === 0) return;
    const dirs = new Set(moves.map((m) => this.paths.dir(m.area, m.name)));
    for (const dir of dirs) await this.paths.checked(dir);
    await this.paths.checked(staging);
    await fs.mkdir(staging, { recursive: true });
    // The staging folder exists by now: ENOENT means the file itself is gone.
    const move = (m: StageMove) =>
      fs.rename(this.paths.file(m.area, m.name, m.file), path.join(staging, m.as)).catch((e) => {
        if (!ifPresent || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      });
    await Promise.all(moves.filter((m) => m.area !== 'settled').map(move));
    await Promise.all(moves.filter((m) => m.area === 'settled').map(move));
  }

  /**
   * Removes a staging folder. Its files go a batch at a time as the folder is read: `fs.rm` would start one
   * unlink per file at once, and 100,000 pending calls hold hundreds of MiB; a whole listing, tens.
   */
  async removeStaging(staging: string): Promise<void> {
    const dir = await this.paths.checked(staging);
    const unlinkAll = (names: string[]) =>
      Promise.all(names.map((n) => fs.unlink(path.join(dir, n)).catch(() => undefined)));
    let batch: string[] = [];
    try {
      // Removing entries already read does not disturb the rest of the listing (readdir(3)).
      for await (const entry of await fs.opendir(dir, { bufferSize: BATCH })) {
        batch.push(entry.name);
        if (batch.length === BATCH) {
          await unlinkAll(batch);
          batch = [];
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await unlinkAll(batch);
    // What unlink could not take (a folder planted there) goes with the folder itself.
    await fs.rm(dir, { recursive: true, force: true });
  }

  /** An entry of `area/<name>/` as it was listed, even one whose name the relay would not write. */
  entry(area: 'inbox' | 'archive', name: string, file: string): string {
    return path.join(this.paths.dir(area, name), file);
  }

  async readEntry(area: 'inbox' | 'archive', name: string, file: string): Promise<ReadResult> {
    return (await this.readEntries(area, name, [file]))[0] as ReadResult;
  }

  /** Reads a batch of entries of one folder at once, the folder checked once for the batch. */
  async readEntries(
    area: 'inbox' | 'archive',
    name: string,
    files: readonly string[],
  ): Promise<ReadResult[]> {
    await this.paths.checked(this.paths.dir(area, name));
    return Promise.all(files.map((file) => readEventFile(this.entry(area, name, file))));
  }

  /**
   * Moves a bad entry aside, keeping its path under `quarantine/`, so nothing is lost and readers stop
   * tripping. The entry itself is moved, never what it points to: a symbolic link goes as a link, a FIFO is
   * never opened, a folder is renamed whole (link(2) cannot take one).
   */
  async quarantine(file: string): Promise<string> {
    const rel = path.relative(this.paths.root, file);
    if (rel.startsWith('..') || path.isAbsolute(rel))
      throw new Error(`refusing to quarantine ${file}: outside the store`);
    await this.paths.checked(path.dirname(file));
    const base = path.join(this.paths.dir('quarantine'), rel);
    await this.paths.checked(path.dirname(base));
    await fs.mkdir(path.dirname(base), { recursive: true });
    const folder = (await fs.lstat(file)).isDirectory();
    // link(2), not rename(2): an earlier file quarantined under the same path must not be replaced. Only
    // clean quarantines, under its lock, so a folder's free name checked first stays free.
    for (let n = 0; ; n++) {
      const into = n === 0 ? base : `${base}.${n}`;
      try {
        if (folder) {
          if (await fs.lstat(into).catch(() => undefined)) continue;
          await fs.rename(file, into);
          return into;
        }
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

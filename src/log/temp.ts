import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createEventFile } from './append.js';
import type { StorePaths } from './paths.js';
import { listNames } from './read.js';

/** A temporary file older than this is a write that will never finish (no write takes ten minutes). */
export const TEMP_AGE_MS = 10 * 60_000;

/**
 * `tmp/`: files being written, linked into place once complete. One left behind is an interrupted write;
 * after `ageMs` nobody is still writing it.
 */
export class TempFiles {
  constructor(private readonly paths: StorePaths) {}

  /** Names of the temporary files older than `ageMs` at `now` (wall ms). */
  async old(now: number, ageMs: number): Promise<string[]> {
    const dir = this.paths.dir('tmp');
    const out: string[] = [];
    for (const file of await listNames(await this.paths.checked(dir))) {
      const st = await fs.lstat(path.join(dir, file)).catch(() => undefined);
      if (st && now - st.mtimeMs > ageMs) out.push(file);
    }
    return out;
  }

  /** Removes the temporary files older than `ageMs`; resolves how many. */
  async sweep(now: number, ageMs: number): Promise<number> {
    const old = await this.old(now, ageMs);
    const dir = await this.paths.checked(this.paths.dir('tmp'));
    for (const file of old) await fs.rm(path.join(dir, file), { force: true });
    return old.length;
  }

  /** Creates and removes a probe event the way every event is written (`doctor`); throws what failed. */
  async probe(file: string): Promise<void> {
    const target = this.paths.file('tmp', undefined, file);
    await createEventFile(this.paths.dir('tmp'), target, '{}');
    await fs.rm(target, { force: true });
  }
}

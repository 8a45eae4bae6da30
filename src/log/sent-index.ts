import { promises as fs, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fsyncDir, writeTempFile } from './append.js';
import { parseStamp } from './clock.js';
import type { StorePaths } from './paths.js';
import type { Problems } from './problems.js';

const MAX_AGE_MS = 1000;

/**
 * What an index entry holds: nothing. Its name is the key, whose stamp is the time, and that is all the
 * window and the clock read; an empty file cannot be half-written by a kill, nor hold a body. A non-empty
 * entry is an old store's hard link of the whole event (body included), which `clean` rewrites.
 */
const INDEX_ENTRY = '';

/**
 * `sent/<from>/<key>.json`: one empty entry per send of a sender, its rate window and its clock's memory.
 * An entry is its name (the key) only, so once a message is delivered and archived no copy of its body is left
 * outside the archive. Older stores linked the whole event here; such an entry still counts (only names
 * are read) and `clean` rewrites it as an empty one (`slim`). Reading
 * it whole on every send cost more than the send's own fsync at high rates, so the list is kept while the
 * folder's mtime says nobody else changed it, and this process's own changes are applied to it directly.
 */
export class SentIndex {
  private readonly cache = new Map<string, { mtime: bigint; keys: string[]; readAt: number }>();

  constructor(
    private readonly paths: StorePaths,
    private readonly problems: Problems,
  ) {}

  /** Where a send of `from` is linked. */
  linkOf(from: string, key: string): string {
    return this.paths.file('sent', from, `${key}.json`);
  }

  /**
   * Writes the entry for a send, before the send itself is published: a crash in between leaves an orphan
   * entry, which only over-counts the window. `durable` fsyncs the folder; a send's own entry
   * skips that (only a power cut could lose it, and then only a rate count), an outbox entry does not.
   */
  async mark(from: string, key: string, durable: boolean): Promise<void> {
    const file = this.linkOf(from, key);
    // Synchronous: creating an empty file is a few microseconds, the thread pool's round trip is more.
    const write = () => writeFileSync(file, INDEX_ENTRY, { flag: 'wx' });
    try {
      try {
        write();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        mkdirSync(path.dirname(file), { recursive: true });
        write();
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (durable) await fsyncDir(path.dirname(file));
  }

  /** Writes the entry, runs `publish`, and takes the entry back if publishing failed: "not sent" counts nothing. */
  async around<T>(from: string, key: string, durable: boolean, publish: () => Promise<T>): Promise<T> {
    const before = await this.before(from);
    await this.mark(from, key, durable);
    try {
      const result = await publish();
      await this.linked(from, key, before);
      return result;
    } catch (e) {
      await fs.rm(this.linkOf(from, key), { force: true }).catch(() => {});
      this.cache.delete(this.paths.dir('sent', from));
      throw e;
    }
  }

  /**
   * Replaces an old store's whole-event links among `keys` by empty entries (write, then rename over the
   * link: the entry never disappears). Returns how many were rewritten.
   */
  async slim(from: string, keys: readonly string[], tmpDir: string): Promise<number> {
    let rewritten = 0;
    for (const key of keys) {
      const file = this.linkOf(from, key);
      const st = await fs.lstat(file).catch(() => undefined);
      if (!st?.isFile() || st.size === 0) continue;
      const tmp = await writeTempFile(tmpDir, INDEX_ENTRY, false);
      await fs.rename(tmp, file).catch(async (e: unknown) => {
        await fs.rm(tmp, { force: true });
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      });
      rewritten++;
    }
    return rewritten;
  }

  /** The folder's version before a link is made: `linked` applies the link only if the list was current. */
  before(from: string): Promise<bigint | undefined> {
    return mtimeOf(this.paths.dir('sent', from));
  }

  /** Applies our own new link to the kept list, or forgets the list when someone else changed the folder. */
  async linked(from: string, key: string, before: bigint | undefined): Promise<void> {
    const dir = this.paths.dir('sent', from);
    if (before !== undefined && this.cache.get(dir)?.mtime === before) {
      await this.update(from, (keys) => [...keys, key].sort());
    } else {
      this.cache.delete(dir);
    }
  }

  /** Keys of a sender's recent sends (its clock and rate limit), oldest first. */
  async keys(from: string): Promise<string[]> {
    const dir = this.paths.dir('sent', from);
    const mtime = await mtimeOf(dir);
    const cached = this.cache.get(dir);
    // Where the kernel keeps only coarse directory times, another process's link in the same tick would not
    // show: the list is read afresh at least once a second regardless.
    const fresh = cached !== undefined && Date.now() - cached.readAt < MAX_AGE_MS;
    if (mtime !== undefined && fresh && cached?.mtime === mtime) return [...cached.keys];
    const keys = await this.problems.keysIn(dir);
    if (mtime !== undefined) this.cache.set(dir, { mtime, keys, readAt: Date.now() });
    return [...keys];
  }

  /** Drops index links; the messages themselves stay in their inboxes and archives. */
  async unindex(from: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    for (const key of keys) await fs.rm(this.linkOf(from, key), { force: true });
    const gone = new Set(keys);
    await this.update(from, (cached) => cached.filter((k) => !gone.has(k)));
  }

  /** The newest stamp any sender's index holds, in wall ms (0 for none): `doctor` compares it to the clock. */
  async newestStampMs(): Promise<number> {
    let newest = 0;
    const root = this.paths.dir('sent');
    for (const name of await fs.readdir(root).catch(() => [] as string[])) {
      for (const file of await fs.readdir(`${root}/${name}`).catch(() => [] as string[])) {
        newest = Math.max(newest, parseStamp(file.slice(0, 22))?.ms ?? 0);
      }
    }
    return newest;
  }

  private async update(from: string, change: (keys: string[]) => string[]): Promise<void> {
    const dir = this.paths.dir('sent', from);
    const cached = this.cache.get(dir);
    if (!cached) return;
    const mtime = await mtimeOf(dir);
    if (mtime === undefined) this.cache.delete(dir);
    else this.cache.set(dir, { ...cached, mtime, keys: change(cached.keys) });
  }
}

async function mtimeOf(dir: string): Promise<bigint | undefined> {
  return statSync(dir, { bigint: true, throwIfNoEntry: false })?.mtimeNs;
}

import { promises as fs } from 'node:fs';
import { parseStamp } from './clock.js';
import type { StorePaths } from './paths.js';
import type { Problems } from './problems.js';

const MAX_AGE_MS = 1000;

/**
 * `sent/<from>/`: a second link to each send of a sender, its rate window and its clock's memory. Reading
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
  return (await fs.stat(dir, { bigint: true }).catch(() => undefined))?.mtimeNs;
}

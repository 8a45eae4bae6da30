/**
 * The leases of an inbox: `leases/<to>/<key>.<gen>.json`. A taker creates the next generation exclusively
 * (link(2) fails with EEXIST for the loser), so of two takers of one abandoned message exactly one gets it;
 * the highest generation of a key is its holder. Leases are dropped once the message is settled.
 */
import { promises as fs } from 'node:fs';
import { createEventFile } from './append.js';
import type { LeasedEvent } from './events.js';
import type { StorePaths } from './paths.js';
import type { Problems } from './problems.js';

const LEASE_FILE = /^(\d{13}-\d{8}-[a-z0-9]{6})\.(\d{1,9})\.json$/;

/** The newest lease of a key; `event` is undefined when that file could not be read (then it holds nothing). */
export interface CurrentLease {
  readonly gen: number;
  readonly event: LeasedEvent | undefined;
}

export class Leases {
  constructor(
    private readonly paths: StorePaths,
    private readonly problems: Problems,
  ) {}

  /** The newest lease of each key in an inbox: one listing, and one read per message being answered. */
  async current(to: string): Promise<Map<string, CurrentLease>> {
    const dir = this.paths.dir('leases', to);
    const newest = new Map<string, { gen: number; file: string }>();
    for (const file of await this.problems.list(dir)) {
      const m = LEASE_FILE.exec(file);
      if (!m) continue;
      const gen = Number(m[2]);
      const prev = newest.get(m[1] as string);
      if (prev === undefined || gen > prev.gen) newest.set(m[1] as string, { gen, file });
    }
    const out = new Map<string, CurrentLease>();
    for (const [key, { gen, file }] of newest) {
      const where = this.paths.file('leases', to, file);
      const read = await this.problems.read(where);
      if (read.ok && read.event.kind === 'leased' && read.event.key === key && read.event.gen === gen) {
        out.set(key, { gen, event: read.event });
      } else {
        if (!(!read.ok && read.missing))
          this.problems.report(where, read.ok ? 'is not this lease' : read.reason);
        out.set(key, { gen, event: undefined });
      }
    }
    return out;
  }

  /** Creates generation `lease.gen` of the key's lease: true for the one caller that got it. */
  async acquire(lease: LeasedEvent): Promise<boolean> {
    const file = this.paths.file('leases', lease.to, `${lease.key}.${lease.gen}.json`);
    const made = await createEventFile(this.paths.dir('tmp'), file, JSON.stringify(lease), {
      durable: false,
    });
    return made === 'created';
  }

  /** Removes generations 1 to `gen` of a key's lease: the message is settled. */
  async drop(to: string, key: string, gen: number): Promise<void> {
    await this.paths.checked(this.paths.dir('leases', to));
    for (let g = 1; g <= gen; g++)
      await fs.rm(this.paths.file('leases', to, `${key}.${g}.json`), { force: true });
  }

  /** Removes one generation: a holder giving its message back leaves an earlier dead taker's mark. */
  async release(to: string, key: string, gen: number): Promise<void> {
    await this.paths.checked(this.paths.dir('leases', to));
    await fs.rm(this.paths.file('leases', to, `${key}.${gen}.json`), { force: true });
  }

  /** Names of the inboxes that have lease files. */
  async inboxes(): Promise<string[]> {
    return (await this.problems.list(this.paths.dir('leases'))).filter((n: string) => !n.startsWith('.'));
  }

  /** The highest generation of each key with lease files, for `clean`, which drops settled messages' leases. */
  async generations(to: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const file of await this.problems.list(this.paths.dir('leases', to))) {
      const m = LEASE_FILE.exec(file);
      if (m) out.set(m[1] as string, Math.max(out.get(m[1] as string) ?? 0, Number(m[2])));
    }
    return out;
  }
}

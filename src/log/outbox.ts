import { promises as fs } from 'node:fs';
import { isRelayError } from '../errors.js';
import { createEventFile } from './append.js';
import type { ForwardedEvent, OutboxEvent } from './events.js';
import type { StorePaths } from './paths.js';
import type { Problems } from './problems.js';

export interface OutboxCounts {
  readonly waiting: number;
  readonly delivered: number;
  readonly refused: number;
}

/**
 * `outbox/<from>/`: sends to other machines not yet taken by the remote relay, each also indexed under
 * `sent/<from>/` so it counts against the sender's rate and moves its clock; `forwarded/<from>/` holds the
 * outcome of each, created exclusively, after which the entry is removed.
 */
export class OutboxFiles {
  constructor(
    private readonly paths: StorePaths,
    private readonly problems: Problems,
  ) {}

  async append(event: OutboxEvent): Promise<void> {
    const target = this.paths.file('outbox', event.from, `${event.key}.json`);
    await createEventFile(this.paths.dir('tmp'), target, JSON.stringify(event));
  }

  /** Every waiting entry of every sender of this store, each sender's in send order. */
  async pending(): Promise<OutboxEvent[]> {
    const out: OutboxEvent[] = [];
    for (const from of await this.problems.list(this.paths.dir('outbox'))) {
      let dir: string;
      try {
        dir = this.paths.dir('outbox', from);
      } catch {
        this.problems.report(`${this.paths.dir('outbox')}/${from}`, 'is not a valid sender name');
        continue;
      }
      for (const file of await this.entries(dir)) {
        if (!file.endsWith('.json')) continue;
        const read = await this.problems.read(`${dir}/${file}`);
        if (!read.ok) {
          if (!read.missing) this.problems.report(`${dir}/${file}`, read.reason);
          continue;
        }
        const e = read.event;
        if (e.kind !== 'outbox' || e.from !== from || `${e.key}.json` !== file) {
          this.problems.report(
            `${dir}/${file}`,
            `holds a ${e.kind} event that does not belong in outbox/${from}`,
          );
          continue;
        }
        if (await this.readForwarded(from, e.key)) {
          // A crash came between recording the outcome and removing the entry: finish that now.
          await fs.rm(await this.paths.checked(`${dir}/${file}`), { force: true });
          continue;
        }
        out.push(e);
      }
    }
    return out;
  }

  async readForwarded(from: string, key: string): Promise<ForwardedEvent | undefined> {
    const read = await this.problems.read(this.paths.file('forwarded', from, `${key}.json`));
    return read.ok && read.event.kind === 'forwarded' ? read.event : undefined;
  }

  /**
   * Records the outcome of an entry and removes the entry. The outcome is created exclusively: when two
   * processes flush one outbox, one records it and the other finds it there; the relay stored the message
   * once either way, because both sent the same idempotency key.
   */
  async recordForwarded(event: ForwardedEvent): Promise<boolean> {
    const file = `${event.key}.json`;
    const target = this.paths.file('forwarded', event.from, file);
    const created = await createEventFile(this.paths.dir('tmp'), target, JSON.stringify(event));
    await fs.rm(await this.paths.checked(this.paths.file('outbox', event.from, file)), { force: true });
    return created === 'created';
  }

  /** For `status`: how many sends wait for the relay, and how many it took or refused. */
  async counts(): Promise<OutboxCounts> {
    const waiting = (await this.pending()).length;
    let delivered = 0;
    let refused = 0;
    for (const from of await this.problems.list(this.paths.dir('forwarded'))) {
      let dir: string;
      try {
        dir = this.paths.dir('forwarded', from);
      } catch {
        continue;
      }
      for (const file of await this.entries(dir)) {
        const read = await this.problems.read(`${dir}/${file}`);
        if (!read.ok || read.event.kind !== 'forwarded') continue;
        if (read.event.outcome === 'delivered') delivered++;
        else refused++;
      }
    }
    return { waiting, delivered, refused };
  }

  /** A sender's folder; one that is a symbolic link is reported and read as empty, never followed. */
  private async entries(dir: string): Promise<string[]> {
    try {
      return await this.problems.list(dir);
    } catch (e) {
      if (!isRelayError(e) || e.code !== 'outside_root') throw e;
      this.problems.report(dir, e.message);
      return [];
    }
  }
}

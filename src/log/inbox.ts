import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fsError, isRelayError } from '../errors.js';
import { type CreateResult, createEventFile } from './append.js';
import type { RelayEvent, SentEvent, SettledEvent } from './events.js';
import type { StorePaths } from './paths.js';
import type { Problems } from './problems.js';

/**
 * A recipient's mail: `inbox/<to>/` holds what waits, `settled/<to>/` the one outcome of each message
 * (created exclusively), `archive/<to>/` what was settled, moved out so a poll reads only what is unread.
 */
export class InboxFiles {
  constructor(
    private readonly paths: StorePaths,
    private readonly problems: Problems,
  ) {}

  /** Creates the message in its recipient's inbox; `exists` when that key is already there. */
  append(
    event: SentEvent,
    alsoAt: readonly string[] = [],
    syncAlsoAt = true,
    onLinked?: () => void,
  ): Promise<CreateResult> {
    const target = this.paths.file('inbox', event.to, `${event.key}.json`);
    return createEventFile(this.paths.dir('tmp'), target, JSON.stringify(event), {
      alsoAt,
      syncAlsoAt,
      ...(onLinked === undefined ? {} : { onLinked }),
    });
  }

  /** Keys of the messages in an inbox (unsettled, or settled and not yet archived), in delivery order. */
  keys(to: string): Promise<string[]> {
    return this.problems.keysIn(this.paths.dir('inbox', to));
  }

  /** Whether the inbox still holds a file for `key` (settled or not). */
  async has(to: string, key: string): Promise<boolean> {
    return (await fs.lstat(this.paths.file('inbox', to, `${key}.json`)).catch(() => undefined)) !== undefined;
  }

  /** Reads one inbox message; undefined when it is gone (settled by another process) or unreadable. */
  async read(to: string, key: string): Promise<SentEvent | undefined> {
    const file = this.paths.file('inbox', to, `${key}.json`);
    const read = await this.problems.read(file);
    if (!read.ok) {
      if (!read.missing) this.problems.report(file, read.reason);
      return undefined;
    }
    if (read.event.kind !== 'sent' || read.event.key !== key || read.event.to !== to) {
      this.problems.report(file, `holds a ${read.event.kind} event that does not belong in inbox/${to}`);
      return undefined;
    }
    return read.event;
  }

  /**
   * Records the one outcome of a message. Resolves true for the caller whose create won; every other caller
   * (another poller, another delivery path) gets false and must not deliver the message.
   */
  async settle(event: SettledEvent): Promise<boolean> {
    const target = this.paths.file('settled', event.to, `${event.key}.json`);
    return (await createEventFile(this.paths.dir('tmp'), target, JSON.stringify(event))) === 'created';
  }

  async readSettled(to: string, key: string): Promise<SettledEvent | undefined> {
    return (await this.readSettledAll(to, [key]))[0];
  }

  /** The outcomes of a batch of one inbox's messages, read at once; `settled/<to>/` is checked once. */
  async readSettledAll(to: string, keys: readonly string[]): Promise<(SettledEvent | undefined)[]> {
    const reads = await this.problems.readAll(
      this.paths.dir('settled', to),
      keys.map((key) => path.basename(this.paths.file('settled', to, `${key}.json`))),
    );
    return reads.map((read) => {
      if (!read.ok) return undefined;
      const e = read.event;
      return e.kind === 'consumed' || e.kind === 'expired' ? e : undefined;
    });
  }

  /** Moves a settled message out of the inbox. Idempotent: another process may have moved it already. */
  async archive(to: string, key: string): Promise<void> {
    const from = this.paths.file('inbox', to, `${key}.json`);
    const into = this.paths.file('archive', to, `${key}.json`);
    try {
      await this.paths.checked(this.paths.dir('inbox', to));
      await this.paths.checked(this.paths.dir('archive', to));
      await fs.rename(from, into);
    } catch (e) {
      if (isRelayError(e)) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        // Either the archive directory is missing, or another process archived the message first.
        try {
          await fs.mkdir(this.paths.dir('archive', to), { recursive: true });
          await fs.rename(from, into);
        } catch (again) {
          if ((again as NodeJS.ErrnoException).code !== 'ENOENT')
            throw fsError(again, 'archiving a message', this.paths.root);
        }
        return;
      }
      throw fsError(e, 'archiving a message', this.paths.root);
    }
  }

  /** Every event in an area, for `status`, `clean` and the fold-equals-store tests. Skips bad files. */
  async readArea(area: 'inbox' | 'settled' | 'archive', name: string): Promise<RelayEvent[]> {
    const dir = this.paths.dir(area, name);
    const events: RelayEvent[] = [];
    let files: string[];
    try {
      files = await this.problems.list(dir);
    } catch (e) {
      // One folder that is a symbolic link is reported, never followed; the others are still read.
      if (!isRelayError(e) || e.code !== 'outside_root') throw e;
      this.problems.report(dir, e.message);
      return [];
    }
    for (const file of files) {
      if (!file.endsWith('.json')) continue;
      const read = await this.problems.read(`${dir}/${file}`);
      if (read.ok) events.push(read.event);
      else if (!read.missing) this.problems.report(`${dir}/${file}`, read.reason);
    }
    return events;
  }
}

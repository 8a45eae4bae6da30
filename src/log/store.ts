import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fsError } from '../errors.js';
import { createEventFile } from './append.js';
import type {
  ClaimedEvent,
  HeartbeatEvent,
  LeftEvent,
  RelayEvent,
  SentEvent,
  SessionEvent,
  SettledEvent,
} from './events.js';
import { KEY_PATTERN } from './events.js';
import { Leases } from './leases.js';
import { SESSION_FILE, StorePaths } from './paths.js';
import { listNames, readEventFile } from './read.js';

/** A file the log had to skip: reported, never fatal, never deleted. */
export interface Problem {
  readonly file: string;
  readonly reason: string;
}

export type ProblemSink = (problem: Problem) => void;

const SENT_INDEX_MAX_AGE_MS = 1000;
const CLAIM_FILE = /^\d{10}\.json$/;

export { SESSION_FILE };

/** The event log on disk: the layout of `paths.ts`, each write atomic, each read validated. */
export class Store {
  readonly paths: StorePaths;
  readonly leases: Leases;
  private readonly onProblem: ProblemSink;
  private readonly reported = new Set<string>();
  private readonly sentIndex = new Map<string, { mtime: bigint; keys: string[]; readAt: number }>();

  constructor(root: string, onProblem: ProblemSink = () => {}) {
    this.paths = new StorePaths(root);
    this.onProblem = onProblem;
    this.leases = new Leases(
      this.paths,
      () => this.tmp(),
      (file, reason) => this.report(file, reason),
    );
  }

  get root(): string {
    return this.paths.root;
  }

  private tmp(): string {
    return this.paths.dir('tmp');
  }

  /** Reports each bad file once per process, so a corrupt file does not flood the log on every poll. */
  report(file: string, reason: string): void {
    if (this.reported.has(file)) return;
    this.reported.add(file);
    this.onProblem({ file, reason });
  }

  /** Appends a message to its recipient's inbox; `indexAs` also links it under that sender's sends. */
  async appendSent(event: SentEvent, indexAs?: string): Promise<void> {
    const file = `${event.key}.json`;
    const target = this.paths.file('inbox', event.to, file);
    const alsoAt = indexAs === undefined ? [] : [this.paths.file('sent', indexAs, file)];
    // The sender's index holds its rate window and its clock's memory. A crash or restart keeps it (the
    // kernel has it), so only the event's own folder is fsynced: one fsync per send, as the raw limit.
    const dir = indexAs === undefined ? undefined : this.paths.dir('sent', indexAs);
    const before = dir === undefined ? undefined : await this.mtimeOf(dir);
    await createEventFile(this.tmp(), target, JSON.stringify(event), { alsoAt, syncAlsoAt: false });
    if (indexAs === undefined || dir === undefined) return;
    // Our own link is applied to the kept list only if the list was current just before it.
    if (before !== undefined && this.sentIndex.get(dir)?.mtime === before) {
      await this.updateSentIndex(indexAs, (keys) => [...keys, event.key].sort());
    } else {
      this.sentIndex.delete(dir);
    }
  }

  /** Keys of the messages in an inbox (unsettled, or settled and not yet archived), in delivery order. */
  async inboxKeys(to: string): Promise<string[]> {
    const dir = this.paths.dir('inbox', to);
    return (await this.list(dir)).flatMap((f) => keyOf(f, dir, this));
  }

  /** Reads one inbox message; undefined when it is gone (settled by another process) or unreadable. */
  async readInbox(to: string, key: string): Promise<SentEvent | undefined> {
    const file = this.paths.file('inbox', to, `${key}.json`);
    const read = await readEventFile(file);
    if (!read.ok) {
      if (!read.missing) this.report(file, read.reason);
      return undefined;
    }
    if (read.event.kind !== 'sent' || read.event.key !== key || read.event.to !== to) {
      this.report(file, `holds a ${read.event.kind} event that does not belong in inbox/${to}`);
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
    return (await createEventFile(this.tmp(), target, JSON.stringify(event))) === 'created';
  }

  async readSettled(to: string, key: string): Promise<SettledEvent | undefined> {
    const read = await readEventFile(this.paths.file('settled', to, `${key}.json`));
    if (!read.ok) return undefined;
    const e = read.event;
    return e.kind === 'consumed' || e.kind === 'expired' ? e : undefined;
  }

  /** Moves a settled message out of the inbox. Idempotent: another process may have moved it already. */
  async archive(to: string, key: string): Promise<void> {
    const from = this.paths.file('inbox', to, `${key}.json`);
    const into = this.paths.file('archive', to, `${key}.json`);
    try {
      await fs.rename(from, into);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        // Either the archive directory is missing, or another process archived the message first.
        try {
          await fs.mkdir(this.paths.dir('archive', to), { recursive: true });
          await fs.rename(from, into);
        } catch (again) {
          if ((again as NodeJS.ErrnoException).code !== 'ENOENT')
            throw fsError(again, 'archiving a message', this.root);
        }
        return;
      }
      throw fsError(e, 'archiving a message', this.root);
    }
  }

  /** Keys of a sender's recent sends (its clock and rate limit), oldest first. */
  async sentKeys(from: string): Promise<string[]> {
    const dir = this.paths.dir('sent', from);
    const mtime = await this.mtimeOf(dir);
    const cached = this.sentIndex.get(dir);
    // Where the kernel keeps only coarse directory times, another process's link in the same tick would not
    // show: the list is read afresh at least once a second regardless.
    const fresh = cached !== undefined && Date.now() - cached.readAt < SENT_INDEX_MAX_AGE_MS;
    if (mtime !== undefined && fresh && cached?.mtime === mtime) return [...cached.keys];
    const keys = (await this.list(dir)).flatMap((f) => keyOf(f, dir, this));
    if (mtime !== undefined) this.sentIndex.set(dir, { mtime, keys, readAt: Date.now() });
    return [...keys];
  }

  /** Drops index links; the messages themselves stay in their inboxes and archives. */
  async unindexSent(from: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    for (const key of keys) await fs.rm(this.paths.file('sent', from, `${key}.json`), { force: true });
    const gone = new Set(keys);
    await this.updateSentIndex(from, (cached) => cached.filter((k) => !gone.has(k)));
  }

  /**
   * A sender's index can hold a minute of sends; reading it whole on every send cost more than the send's
   * own fsync at high rates. The list is kept while the folder's mtime says nobody else changed it, and this
   * process's own changes are applied to it directly.
   */
  private async updateSentIndex(from: string, change: (keys: string[]) => string[]): Promise<void> {
    const dir = this.paths.dir('sent', from);
    const cached = this.sentIndex.get(dir);
    if (!cached) return;
    const mtime = await this.mtimeOf(dir);
    if (mtime === undefined) this.sentIndex.delete(dir);
    else this.sentIndex.set(dir, { ...cached, mtime, keys: change(cached.keys) });
  }

  private async mtimeOf(dir: string): Promise<bigint | undefined> {
    return (await fs.stat(dir, { bigint: true }).catch(() => undefined))?.mtimeNs;
  }

  async appendSessionEvent(event: SessionEvent): Promise<string> {
    const file = `${event.at}-${event.instance}.json`;
    await createEventFile(this.tmp(), this.paths.file('sessions', event.name, file), JSON.stringify(event));
    return file;
  }

  /** Removes an instance's own heartbeats that a newer event of the same instance supersedes. */
  async compactSession(name: string, instance: string, keepFile: string): Promise<void> {
    for (const file of await this.list(this.paths.dir('sessions', name))) {
      const m = SESSION_FILE.exec(file);
      if (m && m[2] === instance && file < keepFile) {
        await fs.rm(this.paths.file('sessions', name, file), { force: true });
      }
    }
  }

  async sessionNames(): Promise<string[]> {
    return (await this.list(this.paths.dir('sessions'))).filter((n) => !n.startsWith('.'));
  }

  /** The newest event of each instance of each session: what the sessions projection needs, and no more. */
  async latestSessionEvents(): Promise<SessionEvent[]> {
    const out: SessionEvent[] = [];
    for (const name of await this.sessionNames()) out.push(...(await this.latestSessionEventsOf(name)));
    return out;
  }

  /** The newest event of each instance of one session name: a send asks only about its recipient. */
  async latestSessionEventsOf(name: string): Promise<SessionEvent[]> {
    let dir: string;
    try {
      dir = this.paths.dir('sessions', name);
    } catch {
      this.report(`${this.paths.dir('sessions')}/${name}`, 'is not a valid session name');
      return [];
    }
    const newest = new Map<string, string>();
    for (const file of await this.list(dir).catch(() => [] as string[])) {
      const m = SESSION_FILE.exec(file);
      if (!m) {
        if (!file.endsWith('.tmp')) this.report(`${dir}/${file}`, 'is not a session event file name');
        continue;
      }
      const instance = m[2] as string;
      const prev = newest.get(instance);
      if (prev === undefined || file > prev) newest.set(instance, file);
    }
    const out: SessionEvent[] = [];
    for (const file of newest.values()) {
      const event = await this.readSessionFile(name, file);
      if (event) out.push(event);
    }
    return out;
  }

  async readSessionFile(name: string, file: string): Promise<HeartbeatEvent | LeftEvent | undefined> {
    const where = this.paths.file('sessions', name, file);
    const read = await readEventFile(where);
    if (!read.ok) {
      if (!read.missing) this.report(where, read.reason);
      return undefined;
    }
    const e = read.event;
    if ((e.kind === 'heartbeat' || e.kind === 'left') && e.name === name) return e;
    this.report(where, `holds a ${e.kind} event that does not belong in sessions/${name}`);
    return undefined;
  }

  /** Every event in an area, for `status`, `clean` and the fold-equals-store tests. Skips bad files. */
  async readArea(area: 'inbox' | 'settled' | 'archive', name: string): Promise<RelayEvent[]> {
    const dir = this.paths.dir(area, name);
    const events: RelayEvent[] = [];
    for (const file of await this.list(dir)) {
      if (!file.endsWith('.json')) continue;
      const read = await readEventFile(`${dir}/${file}`);
      if (read.ok) events.push(read.event);
      else if (!read.missing) this.report(`${dir}/${file}`, read.reason);
    }
    return events;
  }

  /** Names that have a directory under an area (inboxes, senders). */
  async namesIn(area: 'inbox' | 'settled' | 'archive' | 'sent'): Promise<string[]> {
    return (await this.list(this.paths.dir(area))).filter((n) => !n.startsWith('.'));
  }

  /** The highest claim on a session name, or undefined when nobody ever claimed it. */
  async topClaim(name: string): Promise<ClaimedEvent | undefined> {
    const dir = this.paths.dir('claims', name);
    const gens = (await this.list(dir)).filter((f) => CLAIM_FILE.test(f)).sort();
    for (let i = gens.length - 1; i >= 0; i--) {
      const read = await readEventFile(path.join(dir, gens[i] as string));
      if (read.ok && read.event.kind === 'claimed' && read.event.name === name) return read.event;
      if (!read.ok && !read.missing) this.report(path.join(dir, gens[i] as string), read.reason);
    }
    return undefined;
  }

  /** Creates a claim exclusively: true when this caller got that generation of the name. */
  async claim(event: ClaimedEvent): Promise<boolean> {
    const file = this.paths.file('claims', event.name, `${String(event.gen).padStart(10, '0')}.json`);
    const won = (await createEventFile(this.tmp(), file, JSON.stringify(event))) === 'created';
    if (won && event.gen > 2) {
      // Generations below the one just superseded can never win again.
      const old = String(event.gen - 1).padStart(10, '0');
      for (const f of await this.list(this.paths.dir('claims', event.name))) {
        if (CLAIM_FILE.test(f) && f < `${old}.json`)
          await fs.rm(this.paths.file('claims', event.name, f), { force: true });
      }
    }
    return won;
  }

  /** File names in `area/<name>/`, unfiltered (clean looks at what the readers skip). */
  async filesIn(
    area: 'inbox' | 'archive' | 'settled' | 'sessions' | 'tmp',
    name?: string,
  ): Promise<string[]> {
    return this.list(this.paths.dir(area, name));
  }

  /** Moves a bad file aside, keeping its path under `quarantine/`, so nothing is lost and readers stop tripping. */
  async quarantine(file: string): Promise<string> {
    const rel = path.relative(this.root, file);
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

  private async list(dir: string): Promise<string[]> {
    try {
      return await listNames(dir);
    } catch (e) {
      throw fsError(e, 'listing a directory', this.root);
    }
  }
}

function keyOf(file: string, dir: string, store: Store): string[] {
  const key = file.endsWith('.json') ? file.slice(0, -'.json'.length) : '';
  if (KEY_PATTERN.test(key)) return [key];
  store.report(`${dir}/${file}`, 'is not a message file name the relay writes');
  return [];
}

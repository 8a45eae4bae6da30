import { promises as fs } from 'node:fs';
import type { CreateResult } from './append.js';
import { ClaimFiles } from './claims.js';
import { CompactionFiles } from './compaction.js';
import type {
  ClaimedEvent,
  ConsumedEvent,
  RelayEvent,
  SentEvent,
  SessionEvent,
  SettledEvent,
} from './events.js';
import { hostileEntries } from './hostile.js';
import { InboxFiles } from './inbox.js';
import { InboxWatch } from './inbox-watch.js';
import { Leases } from './leases.js';
import { OutboxFiles } from './outbox.js';
import { SESSION_FILE, StorePaths } from './paths.js';
import { type ProblemSink, Problems } from './problems.js';
import { SentIndex } from './sent-index.js';
import { SessionFiles } from './session-files.js';
import { readSnapshot, SegmentWriter, type Snapshot, writeSnapshot } from './snapshot.js';
import { TempFiles } from './temp.js';
import { type Usage, usageOf } from './usage.js';

export type { Problem, ProblemSink } from './problems.js';
export { SESSION_FILE };

/**
 * The event log on disk: the layout of `paths.ts`, each write atomic, each read validated. Each stored
 * thing is its own module (inbox, sent index, sessions, claims, outbox, snapshot, compaction, temp); this
 * facade only wires them to one root and one problem report.
 */
export class Store {
  readonly paths: StorePaths;
  readonly outbox: OutboxFiles;
  readonly leases: Leases;
  readonly compaction: CompactionFiles;
  readonly temp: TempFiles;
  private readonly problems: Problems;
  private readonly inbox: InboxFiles;
  private readonly sent: SentIndex;
  private readonly sessions: SessionFiles;
  private readonly claims: ClaimFiles;

  constructor(root: string, onProblem: ProblemSink = () => {}) {
    this.paths = new StorePaths(root);
    this.problems = new Problems(onProblem, this.paths.root);
    this.inbox = new InboxFiles(this.paths, this.problems);
    this.sent = new SentIndex(this.paths, this.problems);
    this.sessions = new SessionFiles(this.paths, this.problems);
    this.claims = new ClaimFiles(this.paths, this.problems);
    this.outbox = new OutboxFiles(this.paths, this.problems);
    this.leases = new Leases(this.paths, this.problems);
    this.compaction = new CompactionFiles(this.paths);
    this.temp = new TempFiles(this.paths);
  }

  get root(): string {
    return this.paths.root;
  }

  /** Reports each bad file once per process, so a corrupt file does not flood the log on every poll. */
  report(file: string, reason: string): void {
    this.problems.report(file, reason);
  }

  /**
   * Appends a message to its recipient's inbox; `indexAs` also links it under that sender's sends.
   * Resolves `exists` when the key is already in that inbox (a retried send), writing nothing. `onLinked`
   * runs once the message is visible, before its fsync (see CreateOptions).
   */
  async appendSent(event: SentEvent, indexAs?: string, onLinked?: () => void): Promise<CreateResult> {
    if (indexAs === undefined) return this.inbox.append(event, [], true, onLinked);
    // The sender's index holds its rate window and its clock's memory. A crash or restart keeps it (the
    // kernel has it), so only the event's own folder is fsynced: one fsync per send, as the raw limit.
    return this.sent.around(indexAs, event.key, false, () => this.inbox.append(event, [], true, onLinked));
  }

  /** Appends a send bound for another machine, indexed under its sender's sends like a local one. */
  async appendOutbox(event: Parameters<OutboxFiles['append']>[0], indexed = true): Promise<void> {
    if (!indexed) return this.outbox.append(event);
    return this.sent.around(event.from, event.key, true, () => this.outbox.append(event));
  }

  /**
   * Removes every folder of a throw-away session (`doctor`'s canary) after it left: its inbox, outcomes,
   * archive, leases, index, presence and name claim. Only for a name no one else can hold.
   */
  async removeScratchSession(name: string): Promise<void> {
    const areas = [
      'inbox',
      'settled',
      'leases',
      'archive',
      'sent',
      'sessions',
      'claims',
      'outbox',
      'forwarded',
    ] as const;
    for (const area of areas) await fs.rm(this.paths.dir(area, name), { recursive: true, force: true });
  }

  /** Rewrites a sender's index entries of an old store (whole events) as empty ones; see SentIndex. */
  slimSentIndex(from: string, keys: readonly string[]): Promise<number> {
    return this.sent.slim(from, keys, this.paths.dir('tmp'));
  }

  inboxKeys(to: string): Promise<string[]> {
    return this.inbox.keys(to);
  }

  hasInboxFile(to: string, key: string): Promise<boolean> {
    return this.inbox.has(to, key);
  }

  readInbox(to: string, key: string): Promise<SentEvent | undefined> {
    return this.inbox.read(to, key);
  }

  settle(event: SettledEvent): Promise<boolean> {
    return this.inbox.settle(event);
  }

  /** Settles a message as taken, then archives it; true for the one caller whose `consumed` won. */
  async consume(event: ConsumedEvent): Promise<boolean> {
    // Through `settle`, like every outcome: one method decides every race of a message.
    const won = await this.settle(event);
    await this.archive(event.to, event.key);
    return won;
  }

  /** Settles a message whose TTL ran out, then archives it; true when this caller recorded the expiry. */
  async expire(to: string, key: string, atMs: number): Promise<boolean> {
    const won = await this.settle({ v: 1, kind: 'expired', key, to, atMs, reason: 'ttl' });
    await this.archive(to, key);
    return won;
  }

  readSettled(to: string, key: string): Promise<SettledEvent | undefined> {
    return this.inbox.readSettled(to, key);
  }

  readSettledAll(to: string, keys: readonly string[]): Promise<(SettledEvent | undefined)[]> {
    return this.inbox.readSettledAll(to, keys);
  }

  archive(to: string, key: string): Promise<void> {
    return this.inbox.archive(to, key);
  }

  readArea(area: 'inbox' | 'settled' | 'archive', name: string): Promise<RelayEvent[]> {
    return this.inbox.readArea(area, name);
  }

  /** Wakes on new mail in `inbox/<name>/` (a hint, never a message). */
  watchInbox(name: string, scanMs?: number): InboxWatch {
    return new InboxWatch(this.paths.dir('inbox', name), scanMs, (dir) => this.paths.checked(dir));
  }

  sentKeys(from: string): Promise<string[]> {
    return this.sent.keys(from);
  }

  unindexSent(from: string, keys: readonly string[]): Promise<void> {
    return this.sent.unindex(from, keys);
  }

  newestSentStampMs(): Promise<number> {
    return this.sent.newestStampMs();
  }

  appendSessionEvent(event: SessionEvent): Promise<string> {
    return this.sessions.append(event);
  }

  compactSession(name: string, instance: string, keepFile: string): Promise<void> {
    return this.sessions.compact(name, instance, keepFile);
  }

  sessionNames(): Promise<string[]> {
    return this.sessions.names();
  }

  knownSession(name: string): Promise<boolean> {
    return this.sessions.known(name);
  }

  latestSessionEvents(): Promise<SessionEvent[]> {
    return this.sessions.latest();
  }

  latestSessionEventsOf(name: string): Promise<SessionEvent[]> {
    return this.sessions.latestOf(name);
  }

  readSessionFile(name: string, file: string): Promise<SessionEvent | undefined> {
    return this.sessions.read(name, file);
  }

  topClaim(name: string): Promise<ClaimedEvent | undefined> {
    return this.claims.top(name);
  }

  claim(event: ClaimedEvent): Promise<boolean> {
    return this.claims.claim(event);
  }

  /** Names that have a directory under an area (inboxes, senders). */
  async namesIn(area: 'inbox' | 'settled' | 'archive' | 'sent'): Promise<string[]> {
    return (await this.problems.list(this.paths.dir(area))).filter((n) => !n.startsWith('.'));
  }

  /** File names in `area/<name>/`, unfiltered (clean looks at what the readers skip). */
  filesIn(area: 'inbox' | 'archive' | 'settled' | 'sessions' | 'tmp', name?: string): Promise<string[]> {
    return this.problems.list(this.paths.dir(area, name));
  }

  quarantine(file: string): Promise<string> {
    return this.compaction.quarantine(file);
  }

  /** Links, FIFOs, sockets and folders where only regular files belong: `clean` quarantines them. */
  hostileEntries(): Promise<string[]> {
    return hostileEntries(this.paths);
  }

  readSnapshot(): Promise<Snapshot> {
    return readSnapshot(this);
  }

  writeSnapshot(snapshot: Snapshot): Promise<void> {
    return writeSnapshot(this, snapshot);
  }

  /** A segment written line by line inside a staging folder of `clean`, moved into place by `finish`. */
  openSegment(staging: string): Promise<SegmentWriter> {
    return SegmentWriter.open(this.paths, staging);
  }

  /** Bytes and files of the whole store, and of `tmp/` alone. */
  async usage(): Promise<{ store: Usage; temp: Usage }> {
    return { store: await usageOf(this.root), temp: await usageOf(this.paths.dir('tmp')) };
  }
}

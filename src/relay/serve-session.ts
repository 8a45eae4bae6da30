import { isRelayError } from '../errors.js';
import { HybridClock, type Now } from '../log/clock.js';
import type { SentEvent } from '../log/events.js';
import type { InboxWatch } from '../log/inbox-watch.js';
import { type ProblemSink, Store } from '../log/store.js';
import { broadcastMessage } from './broadcast.js';
import type { RelayConfig } from './config.js';
import { type Identity, isPidAlive, type RelayContext } from './context.js';
import { listLiveSessions } from './live-sessions.js';
import { type LongPollOptions, longPoll } from './long-poll.js';
import { beat, join, leave, newInstanceId } from './membership.js';
import { type PollOptions, type PollResult, pollInbox } from './poll.js';
import { broadcastRouted } from './remote/broadcast.js';
import type { RemoteLink } from './remote/link.js';
import { type RoutedSend, sendRouted } from './remote/send.js';
import type { SendInput } from './send.js';
import { SerialQueue } from './serial.js';
import { type Take, type TakeOptions, takeInbox } from './take.js';

export interface ContextOptions {
  readonly config: RelayConfig;
  readonly name?: string;
  readonly client?: string;
  readonly now?: Now;
  readonly isPidAlive?: (pid: number) => boolean;
  readonly onProblem?: ProblemSink;
  readonly pid?: number;
  readonly ancestors?: readonly number[];
  readonly by?: 'cli';
}

/** A context that acts as a name without joining (a person at the CLI). */
export function createContext(options: ContextOptions): RelayContext {
  const now = options.now ?? Date.now;
  const me: Identity = {
    name: options.name ?? options.config.desiredName,
    machine: options.config.machine,
    instance: newInstanceId(),
    pid: options.pid ?? process.pid,
    cwd: options.config.cwd,
    startedAt: Math.floor(now()),
    joined: '',
    ...(options.client === undefined ? {} : { client: options.client }),
    ...(options.ancestors === undefined ? {} : { ancestors: options.ancestors }),
    ...(options.by === undefined ? {} : { by: options.by }),
  };
  return {
    store: new Store(options.config.root, options.onProblem),
    clock: new HybridClock(now),
    config: options.config,
    me,
    isPidAlive: options.isPidAlive ?? isPidAlive,
    sends: new SerialQueue(),
  };
}

const STOP_GRACE_MS = 1000;

/**
 * One joined session (one `serve` process): its identity on the relay, its heartbeat, and the use-cases
 * acting as it. Heartbeat failures are reported, not fatal: a full disk must not kill the MCP server.
 */
export class RelaySession {
  private context: RelayContext;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The name asked for, when the session got another one because it was taken (known once joined). */
  renamedFrom: string | undefined;
  /** Settles once the join (heartbeat and name claim, fsynced) is done; every use-case waits for it. */
  readonly ready: Promise<void>;
  private readonly onError: (e: unknown) => void;
  private watcher: InboxWatch | undefined;
  private readonly open = new Set<Promise<void>>();
  /** The link to the remote relay, when RELAY_REMOTE_URL is set. */
  private link: RemoteLink | undefined;
  /** The name still to join: the disk was full at start. */
  private pendingJoin: string | undefined;

  private constructor(options: ContextOptions & { onError?: (e: unknown) => void }) {
    this.context = createContext(options);
    this.onError = options.onError ?? (() => {});
    this.ready = this.join(options);
    this.ready.catch(() => {}); // the error is the caller's, from `ready` or the first use-case
  }

  /** Joins and waits for it: the session is live once this returns. */
  static async start(options: ContextOptions & { onError?: (e: unknown) => void }): Promise<RelaySession> {
    const session = RelaySession.begin(options);
    await session.ready;
    return session;
  }

  /**
   * Starts joining and returns at once, so an MCP server can answer `initialize` while the join's fsyncs
   * run; the use-cases below wait for `ready`. Before it, `name` is the name asked for.
   */
  static begin(options: ContextOptions & { onError?: (e: unknown) => void }): RelaySession {
    return new RelaySession(options);
  }

  private async join(options: ContextOptions): Promise<void> {
    const desired = options.name ?? options.config.desiredName;
    let me: Identity;
    try {
      me = await join(this.context, desired);
    } catch (e) {
      if (!isRelayError(e) || e.code !== 'disk_full') throw e;
      // A full disk must not keep a session from starting: it answers reads, refuses each write with the
      // disk's sentence, and joins at the first heartbeat that finds space.
      this.onError(e);
      me = { ...this.context.me, name: desired };
      this.pendingJoin = desired;
    }
    this.context = { ...this.context, me };
    this.renamedFrom = me.name === desired ? undefined : desired;
    this.timer = setInterval(() => this.heartbeat(), options.config.heartbeatMs);
    this.timer.unref();
    if (options.config.remote) {
      // Loaded only with a relay configured: the HTTP client stays out of every other start.
      const { RemoteLink } = await import('./remote/link.js');
      this.link = new RemoteLink(this.context, options.config.remote, this.onError);
      this.link.start(options.config.heartbeatMs);
    }
  }

  get ctx(): RelayContext {
    return this.context;
  }

  get name(): string {
    return this.context.me.name;
  }

  /** Records which MCP client runs this session (known only after `initialize`) with a fresh heartbeat. */
  async setClient(client: string): Promise<void> {
    await this.ready;
    this.context.me.client = client.slice(0, 200);
    return this.heartbeat();
  }

  /** Says in the heartbeat how mail reaches this session by itself (undefined: only when it asks). */
  async setPush(push: 'native' | 'channel' | undefined): Promise<void> {
    // After the join, which sets the identity the heartbeat carries.
    await this.ready.catch(() => {});
    if (this.context.me.push === push) return this.beating;
    if (push === undefined) delete this.context.me.push;
    else this.context.me.push = push;
    return this.heartbeat();
  }

  heartbeat(): Promise<void> {
    if (this.stopped) return this.beating;
    this.beating = this.beating.then(() => this.beatOrJoin()).catch(this.onError);
    return this.beating;
  }

  private async beatOrJoin(): Promise<void> {
    if (this.pendingJoin === undefined) return beat(this.context);
    Object.assign(this.context.me, await join(this.context, this.pendingJoin));
    this.pendingJoin = undefined;
  }

  /** To a local session, or (`machine:name`, or a name unknown here) through the remote relay. */
  async send(input: SendInput): Promise<RoutedSend> {
    await this.ready;
    return sendRouted(this.context, this.link, input);
  }

  /** The live sessions of other machines as `machine:name`; undefined without a relay or when it is unreachable. */
  async remoteSessions() {
    await this.ready;
    return this.link?.remoteSessions();
  }

  /** The remote relay link, for status and tests; undefined when none is configured. */
  get remote(): RemoteLink | undefined {
    return this.link;
  }

  async poll(options: Omit<PollOptions, 'name'>): Promise<PollResult> {
    await this.ready;
    return pollInbox(this.context, options);
  }

  /** Leases this session's messages; the caller commits once they have been shown. */
  async take(options: Omit<TakeOptions, 'name'>): Promise<Take> {
    await this.ready;
    return this.track(await takeInbox(this.context, options));
  }

  /**
   * Remembers a take until it is committed or given back, so that `stop` lets a commit whose answer has
   * just been written finish, rather than leave its messages to come back `again`.
   */
  private track(take: Take): Take {
    if (take.messages.length === 0) return take;
    let settled!: () => void;
    const done = new Promise<void>((resolve) => {
      settled = resolve;
    });
    this.open.add(done);
    const end = <T>(p: Promise<T>) =>
      p.finally(() => {
        this.open.delete(done);
        settled();
      });
    return { ...take, commit: () => end(take.commit()), release: () => end(take.release()) };
  }

  /** Wakes on changes to this session's inbox; shared by long-polls and push. */
  get watch(): InboxWatch {
    this.watcher ??= this.context.store.watchInbox(this.name);
    return this.watcher;
  }

  /** A take that waits up to `waitMs` for a message to arrive. */
  async longPoll(options: LongPollOptions): Promise<Take> {
    await this.ready;
    return this.track(await longPoll(this.context, this.watch, options));
  }

  /** To every other live session, of every machine when a relay is configured (remote copies: `machine:name`). */
  async broadcast(input: { message: string; type?: string | undefined }): Promise<SentEvent[]> {
    await this.ready;
    return this.link
      ? broadcastRouted(this.context, this.link, input)
      : broadcastMessage(this.context, input);
  }

  async sessions() {
    await this.ready;
    return listLiveSessions(this.context);
  }

  /** Writes `left` once; later calls do nothing. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // A join that failed left nothing to leave; one still running finishes first.
    if (
      !(await this.ready.then(
        () => true,
        () => false,
      ))
    )
      return;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
    // Takes whose answers are being written get a moment to commit; past it their leases bring them back.
    if (this.open.size > 0) {
      const moment = new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
      await Promise.race([Promise.all(this.open), moment]);
    }
    await this.link?.stop();
    await this.beating;
    if (this.pendingJoin === undefined) await leave(this.context).catch(this.onError);
  }
}

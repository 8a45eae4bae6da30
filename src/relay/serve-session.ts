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
  private readonly context: RelayContext;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The name asked for, when the session got another one because it was taken. */
  readonly renamedFrom: string | undefined;
  private readonly onError: (e: unknown) => void;
  private watcher: InboxWatch | undefined;
  private readonly open = new Set<Promise<void>>();
  /** The link to the remote relay, when RELAY_REMOTE_URL is set. */
  private link: RemoteLink | undefined;
  /** The name still to join: the disk was full at start. */
  private pendingJoin: string | undefined;

  private constructor(context: RelayContext, renamedFrom: string | undefined, onError: (e: unknown) => void) {
    this.context = context;
    this.renamedFrom = renamedFrom;
    this.onError = onError;
  }

  static async start(options: ContextOptions & { onError?: (e: unknown) => void }): Promise<RelaySession> {
    const draft = createContext(options);
    const desired = options.name ?? options.config.desiredName;
    const onError = options.onError ?? (() => {});
    let me: Identity;
    let pendingJoin: string | undefined;
    try {
      me = await join(draft, desired);
    } catch (e) {
      if (!isRelayError(e) || e.code !== 'disk_full') throw e;
      // A full disk must not keep a session from starting: it answers reads, refuses each write with the
      // disk's sentence, and joins at the first heartbeat that finds space.
      onError(e);
      me = { ...draft.me, name: desired };
      pendingJoin = desired;
    }
    const session = new RelaySession({ ...draft, me }, me.name === desired ? undefined : desired, onError);
    session.pendingJoin = pendingJoin;
    session.timer = setInterval(() => session.heartbeat(), options.config.heartbeatMs);
    session.timer.unref();
    if (options.config.remote) {
      // Loaded only with a relay configured: the HTTP client stays out of every other start.
      const { RemoteLink } = await import('./remote/link.js');
      session.link = new RemoteLink(session.context, options.config.remote, session.onError);
      session.link.start(options.config.heartbeatMs);
    }
    return session;
  }

  get ctx(): RelayContext {
    return this.context;
  }

  get name(): string {
    return this.context.me.name;
  }

  /** Records which MCP client runs this session (known only after `initialize`) with a fresh heartbeat. */
  setClient(client: string): Promise<void> {
    this.context.me.client = client.slice(0, 200);
    return this.heartbeat();
  }

  /** Says in the heartbeat how mail reaches this session by itself (undefined: only when it asks). */
  setPush(push: 'native' | 'channel' | undefined): Promise<void> {
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
  send(input: SendInput): Promise<RoutedSend> {
    return sendRouted(this.context, this.link, input);
  }

  /** The live sessions of other machines as `machine:name`; undefined without a relay or when it is unreachable. */
  async remoteSessions() {
    return this.link?.remoteSessions();
  }

  /** The remote relay link, for status and tests; undefined when none is configured. */
  get remote(): RemoteLink | undefined {
    return this.link;
  }

  poll(options: Omit<PollOptions, 'name'>): Promise<PollResult> {
    return pollInbox(this.context, options);
  }

  /** Leases this session's messages; the caller commits once they have been shown. */
  async take(options: Omit<TakeOptions, 'name'>): Promise<Take> {
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
    return this.track(await longPoll(this.context, this.watch, options));
  }

  /** To every other live session, of every machine when a relay is configured (remote copies: `machine:name`). */
  broadcast(input: { message: string; type?: string | undefined }): Promise<SentEvent[]> {
    return this.link
      ? broadcastRouted(this.context, this.link, input)
      : broadcastMessage(this.context, input);
  }

  sessions() {
    return listLiveSessions(this.context);
  }

  /** Writes `left` once; later calls do nothing. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
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

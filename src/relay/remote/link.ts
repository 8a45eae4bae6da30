import type { HeartbeatEvent, MessageType, OutboxEvent, SentEvent } from '../../log/events.js';
import { RemoteClient } from '../../remote/client.js';
import { isRemoteError, RemoteError } from '../../remote/errors.js';
import type { Presence } from '../../remote/protocol.js';
import type { RelayContext } from '../context.js';
import type { RemoteConfig } from './config.js';
import { OutboxFlusher } from './flusher.js';
import { importRemote } from './import.js';
import { addressOf, enqueueRemote, type RemoteTarget } from './outbox.js';
import { presenceAsHeartbeat } from './presence.js';
import { Alarm, backoffMs } from './retry.js';

/** Seconds one inbound poll waits at the relay for a message before asking again. */
const PUMP_WAIT_SECONDS = 25;
const PUMP_MAX = 10;

export interface RemoteSendResult {
  /** `machine:name`, or the bare name when the relay is to find it. */
  readonly to: string;
  readonly state: 'sent' | 'queued';
  /** Whether the recipient was live when the relay took it. */
  readonly live: boolean;
  /** Why a queued send waits, in a few words for the model (`relay unreachable; retrying`). */
  readonly note?: string;
}

/** What a model is told about a send that waits: only a setting problem needs someone to act. */
function queuedNote(e: unknown): string {
  if (isRemoteError(e) && (e.status === 401 || e.status === 403)) {
    return "the relay refused this machine's API key; it waits until RELAY_API_KEY and RELAY_MACHINE_NAME are fixed";
  }
  if (isRemoteError(e) && e.status === 429) return 'relay rate limit; retrying';
  if (isRemoteError(e) && e.status !== undefined && !e.retryable) {
    return 'RELAY_REMOTE_URL does not answer like a claude-relay relay; it waits until the URL is fixed';
  }
  return 'relay unreachable; retrying';
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function asSent(entry: OutboxEvent): SentEvent {
  const { toMachine: _toMachine, kind: _kind, ...rest } = entry;
  return { ...rest, kind: 'sent' };
}

/**
 * A `serve` process's link to the remote relay, all of it in the background:
 * - the outbox flusher (flusher.ts) sends waiting entries in send order, with backoff while the relay
 *   is down, each with its key as idempotency key, so a send whose answer was lost is stored once;
 * - the inbound pump long-polls the relay for this session's messages, writes each into the local inbox
 *   under its key, then acks it: a lost ack only makes the relay hand out a copy that is not written twice;
 * - heartbeats tell the relay this session is live, so other machines list it and can send to it.
 * The local log stays the only source every delivery path reads.
 */
export class RemoteLink {
  readonly client: RemoteClient;
  private readonly config: RemoteConfig;
  private readonly getCtx: () => RelayContext;
  private readonly onError: (e: unknown) => void;
  private readonly flusher: OutboxFlusher;
  private readonly pumpAlarm = new Alarm();
  private readonly pumpAbort = new AbortController();
  private stopped = false;
  private pumping: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failing: string | undefined;

  constructor(getCtx: () => RelayContext, config: RemoteConfig, onError: (e: unknown) => void = () => {}) {
    this.getCtx = getCtx;
    this.config = config;
    this.onError = onError;
    this.client = new RemoteClient({ url: config.url, apiKey: config.apiKey, timeoutMs: config.timeoutMs });
    this.flusher = new OutboxFlusher(getCtx, this.client, config.retryMaxMs, config.timeoutMs, {
      onContact: () => this.noteSuccess(),
      onFailure: (e) => this.noteFailure(e),
    });
  }

  start(heartbeatMs: number): void {
    this.flusher.start();
    this.pumping = this.pump();
    void this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), heartbeatMs);
    this.timer.unref();
  }

  /** Queues a send durably, gives it one prompt attempt, and says whether it went or waits. */
  async send(
    target: RemoteTarget,
    input: { body: string; type: MessageType; replyTo?: string | undefined },
  ): Promise<{ event: SentEvent; result: RemoteSendResult }> {
    // No await before the entry is queued: sends land in the order the calls came.
    return this.afterQueued(await enqueueRemote(this.getCtx(), target, input));
  }

  /** Gives an entry already in the outbox its one prompt attempt, and says whether it went or waits. */
  async afterQueued(entry: OutboxEvent): Promise<{ event: SentEvent; result: RemoteSendResult }> {
    const outcome = await this.flusher.firstAttempt(entry.key);
    const event = asSent(entry);
    if (outcome.state === 'refused') throw outcome.error;
    if (outcome.state === 'delivered') {
      return { event, result: { to: outcome.answer.to, state: 'sent', live: outcome.answer.live } };
    }
    const to = addressOf({ machine: entry.toMachine, name: entry.to });
    return { event, result: { to, state: 'queued', live: false, note: queuedNote(outcome.error) } };
  }

  /** Live sessions of other machines, named `machine:name`; undefined when the relay cannot be asked. */
  async remoteSessions(): Promise<HeartbeatEvent[] | undefined> {
    const me = this.getCtx().me;
    let sessions: Presence[];
    try {
      // While the relay is known to be failing, relay_sessions does not wait the full time limit for it.
      sessions = await this.client.sessions(
        this.failing ? Math.min(1000, this.config.timeoutMs) : this.config.timeoutMs,
      );
    } catch (e) {
      this.noteFailure(e);
      return undefined;
    }
    this.noteSuccess();
    return sessions
      .filter((s) => s.machine !== me.machine)
      .map((s) => presenceAsHeartbeat(s, `${s.machine}:${s.name}`));
  }

  /** Why the relay is not reachable right now, or undefined when the last contact worked. */
  get problem(): string | undefined {
    return this.failing;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.pumpAbort.abort();
    this.pumpAlarm.wake();
    await Promise.allSettled([this.flusher.stop(), this.pumping]);
    const me = this.getCtx().me;
    await this.client
      .leave(me.machine, me.name, me.instance, Math.min(this.config.timeoutMs, 2000))
      .catch(() => {});
  }

  private async pump(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const me = this.getCtx().me;
      try {
        const messages = await this.client.poll(
          me.machine,
          me.name,
          { wait: PUMP_WAIT_SECONDS, max: PUMP_MAX },
          this.pumpAbort.signal,
        );
        this.noteSuccess();
        attempt = 0;
        if (messages.length === 0) continue;
        // Stored here first, acked after: a crash in between only makes the relay hand out a copy.
        const ctx = this.getCtx();
        for (const m of messages) await importRemote(ctx, ctx.me.name, m);
        await this.client.ack(
          me.machine,
          me.name,
          messages.map((m) => m.ack),
        );
      } catch (e) {
        if (this.stopped) break;
        this.noteFailure(e);
        attempt++;
        const retryAfter = isRemoteError(e) ? e.retryAfter : undefined;
        await this.pumpAlarm.sleep(backoffMs(attempt, this.config.retryMaxMs, retryAfter));
      }
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    const me = this.getCtx().me;
    try {
      await this.client.heartbeat(me.machine, me.name, {
        instance: me.instance,
        pid: me.pid,
        cwd: me.cwd,
        startedAt: me.startedAt,
        ...(me.client === undefined ? {} : { client: me.client }),
      });
      this.noteSuccess();
    } catch (e) {
      this.noteFailure(e);
    }
  }

  /** Logs the change from working to failing once, not every retry. */
  private noteFailure(e: unknown): void {
    const reason = reasonOf(e);
    if (this.failing === undefined)
      this.onError(new RemoteError(`remote relay: ${reason}`, { retryable: true }));
    this.failing = reason;
  }

  /** The relay answers again: retry what waits now rather than at the end of a backoff. */
  private noteSuccess(): void {
    if (this.failing === undefined) return;
    this.failing = undefined;
    this.flusher.wake();
    this.pumpAlarm.wake();
  }
}

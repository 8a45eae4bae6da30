import type { MessageType, OutboxEvent, SentEvent } from '../../log/events.js';
import { RemoteClient } from '../../remote/client.js';
import { sentOfOutbox } from '../../remote/convert.js';
import { isRemoteError, RemoteError } from '../../remote/errors.js';
import type { Presence } from '../../remote/protocol.js';
import type { RelayContext } from '../context.js';
import type { RemoteConfig } from './config.js';
import { OutboxFlusher, type Outcome } from './flusher.js';
import { importRemote } from './import.js';
import { addressOf, appendOutbox, type RemoteTarget } from './outbox.js';
import { Alarm, backoffMs } from './retry.js';

/** Seconds one inbound poll waits at the relay for a message before asking again. */
const PUMP_WAIT_SECONDS = 25;
const PUMP_MAX = 10;
/**
 * A failed heartbeat is retried from about a second, doubling up to this: a relay started after the
 * sessions, or restarted, hears from every session within seconds, and sends queued for them go out.
 */
const HEARTBEAT_FIRST_RETRY_MS = 1000;
const HEARTBEAT_RETRY_MAX_MS = 5000;

export interface RemoteSendResult {
  /** `machine:name`, or the bare name when the relay is to find it. */
  readonly to: string;
  readonly state: 'sent' | 'queued';
  /** Whether the recipient was live when the relay took it. */
  readonly live: boolean;
  /** Why a queued send waits, in a few words for the model (`relay unreachable; retrying`). */
  readonly note?: string;
  /** The relay knows no session of that name yet: the send waits for one to join, up to its TTL. */
  readonly notJoined?: boolean;
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
  private readonly ctx: RelayContext;
  private readonly onError: (e: unknown) => void;
  private readonly flusher: OutboxFlusher;
  private readonly pumpAlarm = new Alarm();
  private readonly pumpAbort = new AbortController();
  private stopped = false;
  private pumping: Promise<void> = Promise.resolve();
  private beating: Promise<void> = Promise.resolve();
  private readonly beatAlarm = new Alarm();
  private beatFailing = false;
  private failing: string | undefined;

  constructor(ctx: RelayContext, config: RemoteConfig, onError: (e: unknown) => void = () => {}) {
    this.ctx = ctx;
    this.config = config;
    this.onError = onError;
    this.client = new RemoteClient({ url: config.url, apiKey: config.apiKey, timeoutMs: config.timeoutMs });
    this.flusher = new OutboxFlusher(ctx, this.client, config.retryMaxMs, config.timeoutMs, {
      onContact: () => this.noteSuccess(),
      onFailure: (e) => this.noteFailure(e),
    });
  }

  start(heartbeatMs: number): void {
    this.flusher.start();
    this.pumping = this.pump();
    this.beating = this.beat(heartbeatMs);
  }

  /** Queues a send durably, gives it one prompt attempt, and says whether it went or waits. */
  async send(
    target: RemoteTarget,
    input: { body: string; type: MessageType; replyTo?: string | undefined },
  ): Promise<{ event: SentEvent; result: RemoteSendResult }> {
    // No await before the entry is queued: sends land in the order the calls came, and so do their attempts.
    const { sent } = await this.ctx.sends.run(async () => ({
      sent: this.afterQueued(await appendOutbox(this.ctx, target, input)),
    }));
    return sent;
  }

  /**
   * Gives an entry just appended to the outbox its one prompt attempt, and says whether it went or waits.
   * Call it in the sender's turn (`ctx.sends`), right after the append: attempts then go in send order.
   */
  afterQueued(entry: OutboxEvent): Promise<{ event: SentEvent; result: RemoteSendResult }> {
    const sent = this.told(entry, this.flusher.attempt(entry));
    // Awaited by the caller once its turn is over; a refusal before that is not an unhandled rejection.
    sent.catch(() => {});
    return sent;
  }

  private async told(
    entry: OutboxEvent,
    attempt: Promise<Outcome>,
  ): Promise<{ event: SentEvent; result: RemoteSendResult }> {
    const outcome = await attempt;
    const event = sentOfOutbox(entry);
    if (outcome.state === 'refused') throw outcome.error;
    if (outcome.state === 'delivered') {
      return { event, result: { to: outcome.answer.to, state: 'sent', live: outcome.answer.live } };
    }
    const to = addressOf({ machine: entry.toMachine, name: entry.to });
    if (outcome.notJoined) return { event, result: { to, state: 'queued', live: false, notJoined: true } };
    return { event, result: { to, state: 'queued', live: false, note: queuedNote(outcome.error) } };
  }

  /** Live sessions of other machines; undefined when the relay cannot be asked. */
  async remoteSessions(): Promise<Presence[] | undefined> {
    const me = this.ctx.me;
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
    return sessions.filter((s) => s.machine !== me.machine);
  }

  /** Why the relay is not reachable right now, or undefined when the last contact worked. */
  get problem(): string | undefined {
    return this.failing;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.pumpAbort.abort();
    this.pumpAlarm.wake();
    this.beatAlarm.wake();
    await Promise.allSettled([this.flusher.stop(), this.pumping, this.beating]);
    const me = this.ctx.me;
    await this.client
      .leave(me.machine, me.name, me.instance, Math.min(this.config.timeoutMs, 2000))
      .catch(() => {});
  }

  private async pump(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const me = this.ctx.me;
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
        for (const m of messages) await importRemote(this.ctx, me.name, m);
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

  /** Heartbeats every `heartbeatMs`; after a failure, again from about a second on. */
  private async beat(heartbeatMs: number): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      this.beatFailing = !(await this.heartbeat());
      if (this.stopped) break;
      failures = this.beatFailing ? failures + 1 : 0;
      const cap = Math.min(HEARTBEAT_RETRY_MAX_MS, this.config.retryMaxMs);
      const retryMs = Math.min(cap, HEARTBEAT_FIRST_RETRY_MS * 2 ** (failures - 1));
      await this.beatAlarm.sleep(this.beatFailing ? Math.min(heartbeatMs, retryMs) : heartbeatMs);
    }
  }

  private async heartbeat(): Promise<boolean> {
    if (this.stopped) return true;
    const me = this.ctx.me;
    try {
      await this.client.heartbeat(me.machine, me.name, {
        instance: me.instance,
        pid: me.pid,
        cwd: me.cwd,
        startedAt: me.startedAt,
        ...(me.client === undefined ? {} : { client: me.client }),
      });
      this.noteSuccess();
      return true;
    } catch (e) {
      this.noteFailure(e);
      return false;
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
    // The relay is back (a poll or send got through): tell it this session lives now, not at the next retry.
    if (this.beatFailing) this.beatAlarm.wake();
  }
}

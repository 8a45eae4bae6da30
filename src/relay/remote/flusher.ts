import type { OutboxEvent } from '../../log/events.js';
import type { RemoteClient } from '../../remote/client.js';
import { wireOf } from '../../remote/convert.js';
import { isRemoteError, type RemoteError } from '../../remote/errors.js';
import type { SendAnswer } from '../../remote/protocol.js';
import type { RelayContext } from '../context.js';
import { SerialQueue } from '../serial.js';
import { addressOf, bounce, pendingOutbox, recordForwarded } from './outbox.js';
import { Alarm, backoffMs } from './retry.js';

/** With nothing to do, the outbox is still looked at this often (another process may have queued). */
const IDLE_RESCAN_MS = 60_000;

/**
 * Refusals that concern the message itself (spec/remote.md): it will never be taken, so it is not retried.
 * `unknown_session` is not one: a session may join later (a relay restarted, or started after the sessions,
 * hears from them within seconds), so such a send waits and is retried until its TTL runs out.
 */
const FINAL_REFUSALS = new Set(['ambiguous_name', 'too_large', 'bad_body', 'bad_json', 'bad_name']);

export type Outcome =
  | { state: 'delivered'; answer: SendAnswer }
  | { state: 'refused'; error: RemoteError }
  | { state: 'queued'; error: unknown; notJoined?: true };

/** The relay knows no session of that name yet: the send waits for one to join. */
function isNotJoined(e: unknown): boolean {
  return isRemoteError(e) && e.remoteCode === 'unknown_session';
}

function expired(entry: OutboxEvent, nowMs: number): boolean {
  return nowMs >= entry.sentAt + entry.ttlMs;
}

export interface FlusherHooks {
  /** The relay answered (a verdict, not a network failure). */
  readonly onContact: () => void;
  /** The relay could not be reached, or could not take the entry now. */
  readonly onFailure: (e: unknown) => void;
}

/**
 * Sends the outbox to the relay, one entry at a time through one lane, each with its key as idempotency key.
 * A send's first attempt goes straight from its outbox append to the relay (`attempt`); the loop is for
 * retries: after a failure it sends every waiting entry of every sender of this store, each sender's in send
 * order, stopping at the first that cannot go now, after a backoff; news that the relay answers again starts
 * a round at once. While entries wait for a retry, a new entry does not overtake them: its attempt is a
 * round. Only a refusal about the message itself settles an entry without delivering it.
 */
export class OutboxFlusher {
  private readonly alarm = new Alarm();
  /** Direct attempts and rounds alike: nothing is sent while something else is being sent. */
  private readonly lane = new SerialQueue();
  /** Keys whose direct attempt is queued or running: a round leaves them (and their sender's later ones) to it. */
  private readonly direct = new Set<string>();
  /** Keys whose sender still waits for the outcome; a refusal nobody hears of is bounced to the sender. */
  private readonly heard = new Set<string>();
  /** Why entries wait for a retry; undefined once a round got through. Unknown until the first round ran. */
  private backlog: unknown = new Error('the outbox has not been looked at yet');
  private stopped = false;
  /** The relay answers again after failing: the next retry starts from the shortest backoff. */
  private fresh = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: RelayContext,
    private readonly client: RemoteClient,
    private readonly retryMaxMs: number,
    private readonly timeoutMs: number,
    private readonly hooks: FlusherHooks,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  wake(): void {
    this.fresh = true;
    this.alarm.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.alarm.wake();
    await this.loop;
  }

  /**
   * The first attempt of an entry just appended to the outbox, queued at once so attempts go in append
   * order; `queued` when it does not settle within the time limit (it is then retried).
   */
  attempt(entry: OutboxEvent): Promise<Outcome> {
    this.direct.add(entry.key);
    this.heard.add(entry.key);
    const settled = this.lane.run(async (): Promise<Outcome> => {
      try {
        if (this.stopped) return { state: 'queued', error: new Error('stopping') };
        if (this.backlog === undefined) {
          const outcome = await this.forward(entry);
          if (outcome.state === 'queued') this.alarm.wake();
          return outcome;
        }
        const round = await this.round(entry.key);
        return round.outcomes.get(entry.key) ?? { state: 'queued', error: round.failure };
      } catch (e) {
        // The verdict could not be recorded: the entry is still in the outbox, and the loop retries it.
        this.backlog = e;
        this.alarm.wake();
        return { state: 'queued', error: e };
      } finally {
        this.direct.delete(entry.key);
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Outcome>((resolve) => {
      timer = setTimeout(
        () => resolve({ state: 'queued', error: new Error('the relay did not answer in time') }),
        this.timeoutMs,
      );
      timer.unref();
    });
    return Promise.race([settled, late]).finally(() => {
      clearTimeout(timer);
      this.heard.delete(entry.key);
    });
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const { failure } = await this.lane.run(() => this.round());
      if (this.stopped) break;
      if (failure === undefined) {
        attempt = 0;
        await this.alarm.sleep(IDLE_RESCAN_MS);
        continue;
      }
      if (this.fresh) attempt = 0;
      this.fresh = false;
      attempt++;
      const retryAfter = isRemoteError(failure) ? failure.retryAfter : undefined;
      await this.alarm.sleep(backoffMs(attempt, this.retryMaxMs, retryAfter));
    }
  }

  /**
   * Sends every waiting entry in order, up to the first that cannot go now. Entries with a direct attempt
   * of their own are left to it, but for `include` (the attempt that runs this round).
   */
  private async round(include?: string): Promise<{ failure: unknown; outcomes: Map<string, Outcome> }> {
    const outcomes = new Map<string, Outcome>();
    const deferred = new Set<string>();
    // Targets no session has joined yet, per sender: what else waits behind them still goes.
    const waitingForJoin = new Set<string>();
    const target = (e: OutboxEvent) => `${e.from} ${addressOf({ machine: e.toMachine, name: e.to })}`;
    let failure: unknown;
    try {
      for (const entry of await pendingOutbox(this.ctx.store)) {
        if (this.stopped) break;
        if (deferred.has(entry.from) || waitingForJoin.has(target(entry))) continue;
        if (entry.key !== include && this.direct.has(entry.key)) {
          deferred.add(entry.from);
          continue;
        }
        const outcome = await this.forward(entry);
        if (outcome.state === 'queued' && outcome.notJoined) {
          failure ??= outcome.error;
          waitingForJoin.add(target(entry));
        } else if (outcome.state === 'queued') {
          failure = outcome.error;
          break;
        }
        outcomes.set(entry.key, outcome);
      }
    } catch (e) {
      failure = e;
    }
    if (failure === undefined && !this.stopped) this.backlog = undefined;
    return { failure, outcomes };
  }

  /** Sends one entry and records a verdict; `queued` (and the reason) when it cannot go now. */
  private async forward(entry: OutboxEvent): Promise<Outcome> {
    const ctx = this.ctx;
    try {
      const answer = await this.client.send(entry.toMachine, entry.to, wireOf(entry));
      this.hooks.onContact();
      await recordForwarded(ctx.store, entry, {
        atMs: Math.floor(ctx.clock.wall()),
        to: answer.to,
        outcome: 'delivered',
        ...(answer.duplicate ? { duplicate: true } : {}),
      });
      return { state: 'delivered', answer };
    } catch (e) {
      const now = Math.floor(ctx.clock.wall());
      if (isNotJoined(e) && !expired(entry, now)) {
        this.hooks.onContact();
        this.backlog = e;
        return { state: 'queued', error: e, notJoined: true };
      }
      // Only the relay's verdict on this very message ends it; a wrong key, machine or URL is a setting to
      // fix, and the message waits for the fix.
      if (!isRemoteError(e) || !(FINAL_REFUSALS.has(e.remoteCode ?? '') || isNotJoined(e))) {
        this.backlog = e;
        this.hooks.onFailure(e);
        return { state: 'queued', error: e };
      }
      this.hooks.onContact();
      const reason = isNotJoined(e)
        ? 'no session of that name joined before the message expired (its TTL ran out).'
        : e.message;
      await recordForwarded(ctx.store, entry, {
        atMs: now,
        to: addressOf({ machine: entry.toMachine, name: entry.to }),
        outcome: 'refused',
        reason: reason.slice(0, 1000),
      });
      if (!this.heard.has(entry.key)) await bounce(ctx, entry, reason);
      return { state: 'refused', error: e };
    }
  }
}

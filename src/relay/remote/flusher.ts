import type { OutboxEvent } from '../../log/events.js';
import type { RemoteClient } from '../../remote/client.js';
import { wireOf } from '../../remote/convert.js';
import { isRemoteError, type RemoteError } from '../../remote/errors.js';
import type { SendAnswer } from '../../remote/protocol.js';
import type { RelayContext } from '../context.js';
import { addressOf, bounce, pendingOutbox, recordForwarded } from './outbox.js';
import { Alarm, backoffMs } from './retry.js';

/** With nothing to do, the outbox is still looked at this often (another process may have queued). */
const IDLE_RESCAN_MS = 60_000;

/** Refusals that concern the message itself (spec/remote.md): it will never be taken, so it is not retried. */
const FINAL_REFUSALS = new Set([
  'unknown_session',
  'ambiguous_name',
  'too_large',
  'bad_body',
  'bad_json',
  'bad_name',
]);

export type Outcome =
  | { state: 'delivered'; answer: SendAnswer }
  | { state: 'refused'; error: RemoteError }
  | { state: 'queued'; error: unknown };

export interface FlusherHooks {
  /** The relay answered (a verdict, not a network failure). */
  readonly onContact: () => void;
  /** The relay could not be reached, or could not take the entry now. */
  readonly onFailure: (e: unknown) => void;
}

/**
 * Sends the outbox to the relay: every entry of every sender of this store, each sender's in send order,
 * one at a time, with the entry's key as its idempotency key. A round stops at the first entry that cannot
 * go now and is retried after a backoff; a new entry, or news that the relay answers again, starts a round
 * at once. Only a refusal about the message itself settles an entry without delivering it.
 */
export class OutboxFlusher {
  private readonly alarm = new Alarm();
  private readonly waiters = new Map<string, (o: Outcome) => void>();
  /** Outcomes nobody waited for yet: a flusher quicker than the send that queued the entry. */
  private readonly untold = new Map<string, Outcome>();
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly getCtx: () => RelayContext,
    private readonly client: RemoteClient,
    private readonly retryMaxMs: number,
    private readonly timeoutMs: number,
    private readonly hooks: FlusherHooks,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  wake(): void {
    this.alarm.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.alarm.wake();
    for (const resolve of this.waiters.values()) resolve({ state: 'queued', error: new Error('stopping') });
    this.waiters.clear();
    await this.loop;
  }

  /** The outcome of an entry's first attempt, or `queued` when it does not come within the time limit. */
  firstAttempt(key: string): Promise<Outcome> {
    const known = this.untold.get(key);
    if (known) {
      this.untold.delete(key);
      return Promise.resolve(known);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        resolve({ state: 'queued', error: new Error('the relay did not answer in time') });
      }, this.timeoutMs);
      timer.unref();
      this.waiters.set(key, (o) => {
        clearTimeout(timer);
        this.waiters.delete(key);
        resolve(o);
      });
      this.alarm.wake();
    });
  }

  /** Tells a waiting send its outcome; false when nobody waits for this key any more. */
  private tell(key: string, outcome: Outcome): boolean {
    const waiter = this.waiters.get(key);
    if (waiter) {
      waiter(outcome);
      return true;
    }
    if (outcome.state !== 'queued') {
      this.untold.set(key, outcome);
      if (this.untold.size > 100) this.untold.delete(this.untold.keys().next().value as string);
    }
    return false;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      let failure: unknown;
      try {
        for (const entry of await pendingOutbox(this.getCtx().store)) {
          if (this.stopped) break;
          const settled = await this.forward(entry);
          if (settled !== true) {
            failure = settled;
            break;
          }
        }
      } catch (e) {
        failure = e;
      }
      if (this.stopped) break;
      if (failure === undefined) {
        attempt = 0;
        await this.alarm.sleep(IDLE_RESCAN_MS);
        continue;
      }
      // Nothing more goes out in this round: every send still waiting for its first attempt hears so now.
      for (const key of [...this.waiters.keys()]) this.tell(key, { state: 'queued', error: failure });
      attempt++;
      const retryAfter = isRemoteError(failure) ? failure.retryAfter : undefined;
      await this.alarm.sleep(backoffMs(attempt, this.retryMaxMs, retryAfter));
    }
  }

  /** Sends one entry; true when it is settled (delivered or refused for good), else why it cannot go now. */
  private async forward(entry: OutboxEvent): Promise<true | unknown> {
    const ctx = this.getCtx();
    try {
      const answer = await this.client.send(entry.toMachine, entry.to, wireOf(entry));
      this.hooks.onContact();
      await recordForwarded(ctx.store, entry, {
        atMs: Math.floor(ctx.clock.wall()),
        to: answer.to,
        outcome: 'delivered',
        ...(answer.duplicate ? { duplicate: true } : {}),
      });
      this.tell(entry.key, { state: 'delivered', answer });
      return true;
    } catch (e) {
      // Only the relay's verdict on this very message ends it; a wrong key, machine or URL is a setting to
      // fix, and the message waits for the fix.
      if (!isRemoteError(e) || !FINAL_REFUSALS.has(e.remoteCode ?? '')) {
        this.hooks.onFailure(e);
        return e;
      }
      this.hooks.onContact();
      await recordForwarded(ctx.store, entry, {
        atMs: Math.floor(ctx.clock.wall()),
        to: addressOf({ machine: entry.toMachine, name: entry.to }),
        outcome: 'refused',
        reason: e.message.slice(0, 1000),
      });
      if (!this.tell(entry.key, { state: 'refused', error: e })) await bounce(ctx, entry, e.message);
      return true;
    }
  }
}

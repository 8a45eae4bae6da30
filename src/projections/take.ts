import type { SentEvent } from '../log/events.js';
import { isExpired } from './inbox.js';

/**
 * Whether a taker (a poll, the relay's lease, `clean`) takes the next waiting message, in the decider
 * shape: `decideTake(message, now, taken, budget)` says what to do with it, `evolveTaken` counts what was
 * taken, `initialTaken()` starts a take. Pure: the time and the budget come in as arguments.
 *
 *   expire   its TTL ran out: settle it as expired (never hand it out), then archive it
 *   consume  hand it out: settle it as consumed, then archive it
 *   stop     the answer is full: leave this message and every later one waiting
 */
export type TakeDecision = 'expire' | 'consume' | 'stop';

export interface Taken {
  readonly count: number;
  readonly bytes: number;
}

export interface TakeBudget {
  readonly maxCount: number;
  /** Bodies past this many bytes stop the take. */
  readonly maxBytes: number;
  /**
   * A first message larger than `maxBytes` is taken anyway (a poll answer: default), or left waiting (a hook,
   * whose client shows only so much of it).
   */
  readonly oversized?: 'take' | 'leave';
}

export const UNLIMITED: TakeBudget = {
  maxCount: Number.POSITIVE_INFINITY,
  maxBytes: Number.POSITIVE_INFINITY,
};

export function initialTaken(): Taken {
  return { count: 0, bytes: 0 };
}

export function bodyBytes(message: Pick<SentEvent, 'body'>): number {
  return Buffer.byteLength(message.body, 'utf8');
}

export function decideTake(
  message: Pick<SentEvent, 'body' | 'sentAt' | 'ttlMs'>,
  now: number,
  taken: Taken,
  budget: TakeBudget,
): TakeDecision {
  if (taken.count >= budget.maxCount) return 'stop';
  if (isExpired(message, now)) return 'expire';
  const over = taken.bytes + bodyBytes(message) > budget.maxBytes;
  if (over && (taken.count > 0 || budget.oversized === 'leave')) return 'stop';
  return 'consume';
}

export function evolveTaken(taken: Taken, message: Pick<SentEvent, 'body'>): Taken {
  return { count: taken.count + 1, bytes: taken.bytes + bodyBytes(message) };
}

import { RelayError } from '../errors.js';
import { MAX_BODY_BYTES } from '../log/confined.js';

/** The limits a send must pass, decided from the log's own facts; pure. */
export interface Limits {
  readonly maxBodyBytes: number;
  readonly sendsPerMinute: number;
  readonly ttlMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: MAX_BODY_BYTES,
  sendsPerMinute: 60,
  ttlMs: 7 * 24 * 60 * 60 * 1000,
};

export const RATE_WINDOW_MS = 60_000;

export function checkBody(body: string, limits: Limits): void {
  if (body.length === 0) {
    throw new RelayError('bad_input', 'The message is empty; write something to send.');
  }
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > limits.maxBodyBytes) {
    throw new RelayError(
      'too_large',
      `The message is ${bytes} bytes, over the ${limits.maxBodyBytes}-byte limit; send a shorter one, or a file path to read instead.`,
    );
  }
}

/**
 * Refuses a send when the sender's own sends in the last minute (`recentSendTimes`, wall ms, read from the
 * log) already reach the limit; says when the oldest leaves the window.
 */
export function checkRate(recentSendTimes: readonly number[], now: number, limits: Limits): void {
  // A stamp more than a window ahead means the wall clock stepped back: it cannot be told apart from an old
  // send, so it no longer counts (else a step back of an hour would block the sender for an hour).
  const inWindow = recentSendTimes
    .filter((t) => now - t < RATE_WINDOW_MS && t - now < RATE_WINDOW_MS)
    .sort((a, b) => a - b);
  if (inWindow.length < limits.sendsPerMinute) return;
  const oldest = inWindow[inWindow.length - limits.sendsPerMinute] ?? now;
  const retryAfter = Math.max(1, Math.ceil((oldest + RATE_WINDOW_MS - now) / 1000));
  throw new RelayError(
    'rate_limited',
    `Rate limit: ${limits.sendsPerMinute} sends a minute from one session; wait ${retryAfter}s and send again.`,
    { retryAfter },
  );
}

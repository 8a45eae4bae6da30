import { RelayError } from '../errors.js';
import type { InboxWatch } from '../log/inbox-watch.js';
import type { RelayContext } from './context.js';
import { NOTHING_TAKEN, type Take, takeInbox } from './take.js';

export const TOOL_WAIT_MAX_SECONDS = 600;

export function validateWait(wait: unknown): number {
  if (wait === undefined) return 0;
  if (typeof wait === 'number' && Number.isFinite(wait) && wait >= 0 && wait <= TOOL_WAIT_MAX_SECONDS)
    return wait;
  throw new RelayError(
    'bad_input',
    `Expected \`wait\` to be seconds from 0 to ${TOOL_WAIT_MAX_SECONDS}, got ${JSON.stringify(wait)}.`,
  );
}

export interface LongPollOptions {
  readonly waitMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Called about every `progressEveryMs` while waiting, with the milliseconds waited so far. */
  readonly onProgress?: ((waitedMs: number) => void) | undefined;
  readonly progressEveryMs?: number;
}

/**
 * Takes, and while nothing is there and the deadline has not passed, sleeps until the inbox changes.
 * Returns as soon as one take gets something; the caller commits it once the answer is written. Aborting
 * stops the wait; nothing is taken after that.
 */
export async function longPoll(
  ctx: RelayContext,
  watch: InboxWatch,
  options: LongPollOptions,
): Promise<Take> {
  const started = Date.now();
  const deadline = started + options.waitMs;
  const via = options.waitMs > 0 ? 'long-poll' : 'poll';
  let nextProgress = started + (options.progressEveryMs ?? 5000);
  if (options.waitMs > 0) await watch.start();
  // Listening before each take: mail that lands while a take reads the inbox wakes the next one at once,
  // instead of waiting for the next file-system event or scan.
  let woke = false;
  const unsubscribe =
    options.waitMs > 0
      ? watch.subscribe(() => {
          woke = true;
        })
      : () => false;
  try {
    for (;;) {
      if (options.signal?.aborted) return NOTHING_TAKEN;
      woke = false;
      const taken = await takeInbox(ctx, { via });
      const now = Date.now();
      if (taken.messages.length > 0 || now >= deadline) return taken;
      if (options.onProgress && now >= nextProgress) {
        options.onProgress(now - started);
        nextProgress = now + (options.progressEveryMs ?? 5000);
      }
      if (!woke) await watch.next(Math.min(deadline, nextProgress) - now, options.signal);
    }
  } finally {
    unsubscribe();
  }
}

import { RelayError } from '../errors.js';
import type { SentEvent } from '../log/events.js';
import type { InboxWatch } from '../log/inbox-watch.js';
import type { RelayContext } from './context.js';
import { messageId } from './ids.js';
import { type PollResult, pollInbox } from './poll.js';

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
 * Polls, and while nothing is there and the deadline has not passed, sleeps until the inbox changes.
 * Returns as soon as one poll takes something. Aborting stops the wait; nothing is taken after that.
 */
export async function longPoll(
  ctx: RelayContext,
  watch: InboxWatch,
  options: LongPollOptions,
): Promise<PollResult> {
  const started = Date.now();
  const deadline = started + options.waitMs;
  const via = options.waitMs > 0 ? 'long-poll' : 'poll';
  let nextProgress = started + (options.progressEveryMs ?? 5000);
  if (options.waitMs > 0) await watch.start();
  for (;;) {
    if (options.signal?.aborted) return { messages: [], remaining: 0, expired: 0 };
    const result = await pollInbox(ctx, { via });
    const now = Date.now();
    if (result.messages.length > 0 || now >= deadline) return result;
    if (options.onProgress && now >= nextProgress) {
      options.onProgress(now - started);
      nextProgress = now + (options.progressEveryMs ?? 5000);
    }
    await watch.next(Math.min(deadline, nextProgress) - now, options.signal);
  }
}

/**
 * Puts messages that were taken but could not be shown (the request was cancelled while they were being
 * taken) back at their place in the inbox: same stamp, same sender and body, a new id, since the old id's
 * outcome is already recorded and cannot be undone.
 */
export async function restore(ctx: RelayContext, messages: readonly SentEvent[]): Promise<void> {
  for (const m of messages) {
    const id = messageId();
    await ctx.store.appendSent({ ...m, id, key: `${m.at}-${id}`, restoredFrom: m.key });
  }
}

import type { SentEvent } from '../log/events.js';
import { validateName } from '../log/names.js';
import { isExpired } from '../projections/inbox.js';
import type { RelayContext } from './context.js';
import { type TakeOptions, takeInbox } from './take.js';

export type PollOptions = TakeOptions;

export interface PollResult {
  readonly messages: SentEvent[];
  /** Keys of messages that a dead or late taker had taken before: they may have been seen already. */
  readonly again: ReadonlySet<string>;
  /** Messages left waiting because the answer was full. */
  readonly remaining: number;
  readonly expired: number;
}

/**
 * A take settled at once, for callers whose answer does not leave the process (tests, the doctor's
 * canary). Every path that shows messages to a model or a person takes, writes, then commits.
 */
export async function pollInbox(ctx: RelayContext, options: PollOptions): Promise<PollResult> {
  const taken = await takeInbox(ctx, options);
  await taken.commit();
  return { messages: taken.messages, again: taken.again, remaining: taken.remaining, expired: taken.expired };
}

/** The waiting messages of an inbox, without taking them (`watch`, unread counts). */
export async function peekInbox(ctx: RelayContext, name?: string): Promise<SentEvent[]> {
  const to = validateName(name ?? ctx.me.name, 'name');
  const now = ctx.clock.wall();
  const out: SentEvent[] = [];
  for (const key of await ctx.store.inboxKeys(to)) {
    if (await ctx.store.readSettled(to, key)) continue;
    const message = await ctx.store.readInbox(to, key);
    if (message && !isExpired(message, now)) out.push(message);
  }
  return out;
}

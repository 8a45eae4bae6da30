import type { DeliveryPath, SentEvent } from '../log/events.js';
import { validateName } from '../log/names.js';
import { isExpired } from '../projections/inbox.js';
import { decideTake, evolveTaken, initialTaken } from '../projections/take.js';
import type { RelayContext } from './context.js';

export interface PollOptions {
  readonly via: DeliveryPath;
  /** Whose inbox; the caller's own by default (the CLI's `poll --name`). */
  readonly name?: string;
  /** Stop taking messages once their bodies pass this many bytes (at least one is always taken). */
  readonly maxBytes?: number;
  readonly maxMessages?: number;
}

export interface PollResult {
  readonly messages: SentEvent[];
  /** Messages left waiting because the answer was full. */
  readonly remaining: number;
  readonly expired: number;
}

export const ANSWER_MAX_BYTES = 200_000;

/**
 * Takes the waiting messages of an inbox, in delivery order, each exactly once: a message is returned only
 * by the caller whose `consumed` event was created first. A message past its TTL is settled as `expired`
 * instead, never returned and never dropped without a trace.
 */
export async function pollInbox(ctx: RelayContext, options: PollOptions): Promise<PollResult> {
  const to = validateName(options.name ?? ctx.me.name, 'name');
  const budget = {
    maxBytes: options.maxBytes ?? ANSWER_MAX_BYTES,
    maxCount: options.maxMessages ?? Infinity,
  };
  const keys = await ctx.store.inboxKeys(to);
  const messages: SentEvent[] = [];
  let taken = initialTaken();
  let expired = 0;
  let index = 0;
  for (; index < keys.length; index++) {
    const key = keys[index] as string;
    const message = await ctx.store.readInbox(to, key);
    if (!message) continue;
    const now = Math.floor(ctx.clock.wall());
    const decision = decideTake(message, now, taken, budget);
    if (decision === 'stop') break;
    if (decision === 'expire') {
      if (await ctx.store.expire(to, key, now)) expired++;
      continue;
    }
    const by = { name: ctx.me.name, machine: ctx.me.machine, pid: ctx.me.pid, instance: ctx.me.instance };
    if (!(await ctx.store.consume({ v: 1, kind: 'consumed', key, to, atMs: now, via: options.via, by })))
      continue;
    messages.push(message);
    taken = evolveTaken(taken, message);
  }
  return { messages, remaining: keys.length - index, expired };
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

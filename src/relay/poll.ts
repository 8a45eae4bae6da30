import type { DeliveryPath, SentEvent } from '../log/events.js';
import { validateName } from '../log/names.js';
import { isExpired } from '../projections/inbox.js';
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
  const maxBytes = options.maxBytes ?? ANSWER_MAX_BYTES;
  const maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
  const keys = await ctx.store.inboxKeys(to);
  const messages: SentEvent[] = [];
  let bytes = 0;
  let expired = 0;
  let index = 0;
  for (; index < keys.length; index++) {
    if (messages.length >= maxMessages) break;
    const key = keys[index] as string;
    const message = await ctx.store.readInbox(to, key);
    if (!message) continue;
    const now = Math.floor(ctx.clock.wall());
    if (isExpired(message, now)) {
      if (await ctx.store.settle({ v: 1, kind: 'expired', key, to, atMs: now, reason: 'ttl' })) expired++;
      await ctx.store.archive(to, key);
      continue;
    }
    const size = Buffer.byteLength(message.body, 'utf8');
    if (messages.length > 0 && bytes + size > maxBytes) break;
    const by = { name: ctx.me.name, machine: ctx.me.machine, pid: ctx.me.pid, instance: ctx.me.instance };
    const won = await ctx.store.settle({ v: 1, kind: 'consumed', key, to, atMs: now, via: options.via, by });
    await ctx.store.archive(to, key);
    if (!won) continue;
    messages.push(message);
    bytes += size;
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

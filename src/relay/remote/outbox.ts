import type { ForwardedEvent, MessageType, OutboxEvent } from '../../log/events.js';
import type { OutboxCounts } from '../../log/outbox.js';
import type { Store } from '../../log/store.js';
import { checkBody, checkRate } from '../../projections/limits.js';
import type { RelayContext } from '../context.js';
import { newMessageFields, recentSends } from '../send.js';

/**
 * The durable outbox of sends to other machines. A send is an `outbox` event in `outbox/<from>/`, written
 * like every event (temp file, fsync, link, fsync dir) before the send returns, so a send that returned is
 * never lost, whether the relay is down or the process dies. It is also linked under `sent/<from>/`, so it
 * counts against the sender's rate limit and moves its clock like a local send. Once the relay has it, the
 * outcome is created exclusively at `forwarded/<from>/<key>.json` and the entry is removed.
 */
export interface RemoteTarget {
  /** Undefined: the relay delivers to the one live session named `name` on any machine. */
  readonly machine?: string | undefined;
  readonly name: string;
}

export function addressOf(target: { machine?: string | undefined; name: string }): string {
  return target.machine === undefined ? target.name : `${target.machine}:${target.name}`;
}

/** Appends a send to the outbox, after the same size and rate checks as a local send, in call order: the edge of a send to another machine, where its body is checked. */
export async function enqueueRemote(
  ctx: RelayContext,
  target: RemoteTarget,
  input: { body: string; type: MessageType; replyTo?: string | undefined },
): Promise<OutboxEvent> {
  checkBody(input.body, ctx.config.limits);
  return ctx.sends.run(() => appendOutbox(ctx, target, input));
}

/**
 * The append itself, for a caller already inside the sender's queue (`ctx.sends`) that checked the body:
 * checks the rate from the sender's own recent sends, local and remote alike, then writes the entry and its
 * `sent/` index entry (a broadcast's copies are counted once: `counting`).
 */
export async function appendOutbox(
  ctx: RelayContext,
  target: RemoteTarget,
  input: { body: string; type: MessageType; replyTo?: string | undefined },
  counting: { checkRate: boolean; indexed: boolean } = { checkRate: true, indexed: true },
): Promise<OutboxEvent> {
  const { times } = await recentSends(ctx, ctx.me.name);
  if (counting.checkRate) checkRate(times, ctx.clock.wall(), ctx.config.limits);
  const event: OutboxEvent = {
    v: 1,
    kind: 'outbox',
    ...newMessageFields(ctx),
    to: target.name,
    ...(target.machine === undefined ? {} : { toMachine: target.machine }),
    type: input.type,
    body: input.body,
    ...(input.replyTo === undefined ? {} : { replyTo: input.replyTo }),
  };
  await ctx.store.appendOutbox(event, counting.indexed);
  return event;
}

export type { OutboxCounts };

/** Every waiting entry of every sender of this store, each sender's in send order. */
export function pendingOutbox(store: Store): Promise<OutboxEvent[]> {
  return store.outbox.pending();
}

export function readForwarded(store: Store, from: string, key: string): Promise<ForwardedEvent | undefined> {
  return store.outbox.readForwarded(from, key);
}

/** Records the outcome of an entry and removes the entry; true for the one process that recorded it. */
export function recordForwarded(
  store: Store,
  entry: OutboxEvent,
  outcome: Omit<ForwardedEvent, 'v' | 'kind' | 'key' | 'from'>,
): Promise<boolean> {
  return store.outbox.recordForwarded({
    v: 1,
    kind: 'forwarded',
    key: entry.key,
    from: entry.from,
    ...outcome,
  });
}

/** For `status`: how many sends wait for the relay, and how many it took or refused. */
export function outboxCounts(store: Store): Promise<OutboxCounts> {
  return store.outbox.counts();
}

/** A notice to the sender's own inbox that the relay refused an entry nobody was waiting on any more. */
export async function bounce(ctx: RelayContext, entry: OutboxEvent, reason: string): Promise<void> {
  const body = `Could not deliver #${entry.id} to ${addressOf({ machine: entry.toMachine, name: entry.to })}: ${reason}`;
  await ctx.store.appendSent({
    v: 1,
    kind: 'sent',
    ...newMessageFields(ctx),
    from: 'relay',
    origin: 'relay',
    to: entry.from,
    type: 'info',
    body,
    replyTo: entry.id,
  });
}

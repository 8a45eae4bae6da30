/**
 * The one way a message leaves an inbox. A take *leases* each message (an exclusive lease in the log with
 * the taker's instance, pid and a deadline), the caller writes its answer out, and only then `commit()`
 * settles the messages as `consumed`. A taker killed in between holds a lease whose pid is gone (or whose
 * deadline passes): the next take gets the message with the next lease generation, marked `again` because
 * the dead taker may have shown it. So a message is never lost with its taker; the window left (answer
 * written, `consumed` not yet on disk) can only show a message twice, never drop it (spec: INV-TAKE).
 */
import { isRelayError } from '../errors.js';
import type { DeliveryPath, LeasedEvent, SentEvent } from '../log/events.js';
import type { CurrentLease } from '../log/leases.js';
import { validateName } from '../log/names.js';
import { bodyBytes, decideTake, evolveTaken, initialTaken, type TakeBudget } from '../projections/take.js';
import type { RelayContext } from './context.js';

/** Long enough for any answer to be written out; a live holder past it may see its message shown again. */
export const LEASE_MS = 30_000;

export interface TakeOptions {
  readonly via: DeliveryPath;
  /** Whose inbox; the caller's own by default (the CLI's `poll --name`). */
  readonly name?: string;
  /** Stop taking messages once their bodies pass this many bytes. */
  readonly maxBytes?: number;
  readonly maxMessages?: number;
  /**
   * A first message larger than `maxBytes`: `take` it anyway (a poll answer), or `leave` it waiting (a hook,
   * whose client shows only so much) and count it in `remaining`.
   */
  readonly oversized?: 'take' | 'leave';
}

export interface Take {
  readonly messages: SentEvent[];
  /** Keys of the messages a dead or late taker had taken before: they may have been seen already. */
  readonly again: ReadonlySet<string>;
  /** Messages left waiting because the answer was full. */
  readonly remaining: number;
  /** Bytes of the bodies left waiting because the answer was full (0 when unknown). */
  readonly remainingBytes: number;
  readonly expired: number;
  /** Settles the taken messages as consumed: call once their answer has been written out. */
  commit(): Promise<void>;
  /** Gives the taken messages back untouched (the answer was never sent). */
  release(): Promise<void>;
}

export const ANSWER_MAX_BYTES = 200_000;

export const NOTHING_TAKEN: Take = {
  messages: [],
  again: new Set(),
  remaining: 0,
  remainingBytes: 0,
  expired: 0,
  commit: async () => {},
  release: async () => {},
};

/** Whether a lease still holds its message: not run out, and its holder alive where that can be told. */
function holds(lease: CurrentLease | undefined, ctx: RelayContext, now: number): boolean {
  const e = lease?.event;
  if (!e) return false;
  if (e.untilMs <= now) return false;
  return e.by.machine !== ctx.config.machine || ctx.isPidAlive(e.by.pid);
}

/**
 * Takes the waiting messages of an inbox in delivery order, each leased by exactly one taker. A message past
 * its TTL is settled as `expired` instead, never returned and never dropped without a trace.
 */
export async function takeInbox(ctx: RelayContext, options: TakeOptions): Promise<Take> {
  const to = validateName(options.name ?? ctx.me.name, 'name');
  const budget: TakeBudget = {
    maxBytes: options.maxBytes ?? ANSWER_MAX_BYTES,
    maxCount: options.maxMessages ?? Number.POSITIVE_INFINITY,
    ...(options.oversized === undefined ? {} : { oversized: options.oversized }),
  };
  const store = ctx.store;
  const keys = await store.inboxKeys(to);
  const leases = keys.length === 0 ? new Map<string, CurrentLease>() : await store.leases.current(to);
  const by = { name: ctx.me.name, machine: ctx.me.machine, pid: ctx.me.pid, instance: ctx.me.instance };
  const held: LeasedEvent[] = [];
  const messages: SentEvent[] = [];
  const again = new Set<string>();
  let taken = initialTaken();
  let expired = 0;
  let index = 0;
  let remainingBytes = 0;
  try {
    for (; index < keys.length; index++) {
      const key = keys[index] as string;
      const now = Math.floor(ctx.clock.wall());
      const lease = leases.get(key);
      if (holds(lease, ctx, now)) continue;
      const message = await store.readInbox(to, key);
      if (!message) continue;
      const gen = (lease?.gen ?? 0) + 1;
      const decision = decideTake(message, now, taken, budget);
      if (decision === 'stop') {
        // Only a hook says how much it left; a poll would read the rest of the inbox for nothing.
        if (options.oversized === 'leave') remainingBytes = await bytesFrom(ctx, to, keys.slice(index));
        break;
      }
      if (decision === 'expire') {
        if (await store.expire(to, key, now)) expired++;
        if (lease) await store.leases.drop(to, key, lease.gen);
        continue;
      }
      const leased: LeasedEvent = {
        v: 1,
        kind: 'leased',
        key,
        to,
        gen,
        atMs: now,
        untilMs: now + LEASE_MS,
        via: options.via,
        by,
      };
      if (!(await store.leases.acquire(leased))) continue;
      if (await store.readSettled(to, key)) {
        // A take that committed and died before moving the message out: finish its move.
        await store.archive(to, key);
        await store.leases.drop(to, key, gen);
        continue;
      }
      held.push(leased);
      messages.push(message);
      if (gen > 1) again.add(key);
      taken = evolveTaken(taken, message);
    }
  } catch (e) {
    // A full disk part-way: what was already leased is returned (the rest stays waiting), so the answer
    // carries it and is true. Any other failure, or none leased, gives all back: "nothing was lost" holds.
    if (held.length === 0 || !isRelayError(e) || e.code !== 'disk_full') {
      await giveBack(ctx, held);
      throw e;
    }
  }
  let done = false;
  return {
    messages,
    again,
    remaining: keys.length - index,
    remainingBytes,
    expired,
    async commit() {
      if (done) return;
      done = true;
      await settleTaken(ctx, held, again);
    },
    async release() {
      if (done) return;
      done = true;
      await giveBack(ctx, held);
    },
  };
}

async function bytesFrom(ctx: RelayContext, to: string, keys: readonly string[]): Promise<number> {
  let total = 0;
  for (const key of keys) {
    const m = await ctx.store.readInbox(to, key);
    if (m) total += bodyBytes(m);
  }
  return total;
}

/**
 * Each message gets its one `consumed` event, then leaves the inbox. A message whose settle fails (a full
 * disk) keeps its lease: it comes back marked `again` once the lease runs out, shown twice but never lost.
 */
async function settleTaken(ctx: RelayContext, held: readonly LeasedEvent[], again: ReadonlySet<string>) {
  let failure: unknown;
  for (const lease of held) {
    try {
      await ctx.store.consume({
        v: 1,
        kind: 'consumed',
        key: lease.key,
        to: lease.to,
        atMs: Math.floor(ctx.clock.wall()),
        via: lease.via,
        by: lease.by,
        ...(again.has(lease.key) ? { again: true as const } : {}),
      });
      await ctx.store.leases.drop(lease.to, lease.key, lease.gen);
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure !== undefined) throw failure;
}

async function giveBack(ctx: RelayContext, held: readonly LeasedEvent[]): Promise<void> {
  for (const lease of held) {
    // Only our own generation: an earlier taker's lease stays, so the next take still marks it `again`.
    await ctx.store.leases.release(lease.to, lease.key, lease.gen).catch(() => {});
  }
}

/**
 * Drops the leases of messages that no longer wait in their inbox: a take that died after its commit moved
 * the message out but not its lease. A lease of a waiting message stays: it may be someone's answer.
 */
export async function dropStaleLeases(ctx: RelayContext): Promise<number> {
  let dropped = 0;
  for (const to of await ctx.store.leases.inboxes()) {
    const waiting = new Set(await ctx.store.inboxKeys(to));
    for (const [key, gen] of await ctx.store.leases.generations(to)) {
      if (waiting.has(key)) continue;
      await ctx.store.leases.drop(to, key, gen);
      dropped++;
    }
  }
  return dropped;
}

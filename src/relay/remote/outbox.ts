import { promises as fs } from 'node:fs';
import { createEventFile } from '../../log/append.js';
import type { ForwardedEvent, MessageType, OutboxEvent } from '../../log/events.js';
import { listNames, readEventFile } from '../../log/read.js';
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

/** Appends a send to the outbox, after the same size and rate checks as a local send, in call order. */
export async function enqueueRemote(
  ctx: RelayContext,
  target: RemoteTarget,
  input: { body: string; type: MessageType; replyTo?: string | undefined },
): Promise<OutboxEvent> {
  checkBody(input.body, ctx.config.limits);
  return ctx.sends.run(() => appendOutbox(ctx, target, input));
}

/**
 * The append itself, for a caller already inside the sender's queue (`ctx.sends`): checks the rate from the
 * sender's own recent sends, local and remote alike, then writes the entry and its `sent/` index link.
 */
export async function appendOutbox(
  ctx: RelayContext,
  target: RemoteTarget,
  input: { body: string; type: MessageType; replyTo?: string | undefined },
): Promise<OutboxEvent> {
  checkBody(input.body, ctx.config.limits);
  const { times } = await recentSends(ctx, ctx.me.name);
  checkRate(times, ctx.clock.wall(), ctx.config.limits);
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
  const file = `${event.key}.json`;
  await createEventFile(
    ctx.store.paths.dir('tmp'),
    ctx.store.paths.file('outbox', ctx.me.name, file),
    JSON.stringify(event),
    { alsoAt: [ctx.store.paths.file('sent', ctx.me.name, file)] },
  );
  return event;
}

/** Every waiting entry of every sender of this store, each sender's in send order. */
export async function pendingOutbox(store: Store): Promise<OutboxEvent[]> {
  const out: OutboxEvent[] = [];
  for (const from of await listNames(store.paths.dir('outbox'))) {
    let dir: string;
    try {
      dir = store.paths.dir('outbox', from);
    } catch {
      store.report(`${store.paths.dir('outbox')}/${from}`, 'is not a valid sender name');
      continue;
    }
    for (const file of await listNames(dir)) {
      if (!file.endsWith('.json')) continue;
      const read = await readEventFile(`${dir}/${file}`);
      if (!read.ok) {
        if (!read.missing) store.report(`${dir}/${file}`, read.reason);
        continue;
      }
      const e = read.event;
      if (e.kind !== 'outbox' || e.from !== from || `${e.key}.json` !== file) {
        store.report(`${dir}/${file}`, `holds a ${e.kind} event that does not belong in outbox/${from}`);
        continue;
      }
      if (await readForwarded(store, from, e.key)) {
        // A crash came between recording the outcome and removing the entry: finish that now.
        await fs.rm(`${dir}/${file}`, { force: true });
        continue;
      }
      out.push(e);
    }
  }
  return out;
}

export async function readForwarded(
  store: Store,
  from: string,
  key: string,
): Promise<ForwardedEvent | undefined> {
  const read = await readEventFile(store.paths.file('forwarded', from, `${key}.json`));
  return read.ok && read.event.kind === 'forwarded' ? read.event : undefined;
}

/**
 * Records the outcome of an entry and removes the entry. The outcome is created exclusively: when two
 * processes flush one outbox, one records it and the other finds it there; the relay stored the message
 * once either way, because both sent the same idempotency key.
 */
export async function recordForwarded(
  store: Store,
  entry: OutboxEvent,
  outcome: Omit<ForwardedEvent, 'v' | 'kind' | 'key' | 'from'>,
): Promise<boolean> {
  const event: ForwardedEvent = { v: 1, kind: 'forwarded', key: entry.key, from: entry.from, ...outcome };
  const file = `${entry.key}.json`;
  const created = await createEventFile(
    store.paths.dir('tmp'),
    store.paths.file('forwarded', entry.from, file),
    JSON.stringify(event),
  );
  await fs.rm(store.paths.file('outbox', entry.from, file), { force: true });
  return created === 'created';
}

export interface OutboxCounts {
  readonly waiting: number;
  readonly delivered: number;
  readonly refused: number;
}

/** For `status`: how many sends wait for the relay, and how many it took or refused. */
export async function outboxCounts(store: Store): Promise<OutboxCounts> {
  const waiting = (await pendingOutbox(store)).length;
  let delivered = 0;
  let refused = 0;
  for (const from of await listNames(store.paths.dir('forwarded'))) {
    let dir: string;
    try {
      dir = store.paths.dir('forwarded', from);
    } catch {
      continue;
    }
    for (const file of await listNames(dir)) {
      const read = await readEventFile(`${dir}/${file}`);
      if (!read.ok || read.event.kind !== 'forwarded') continue;
      if (read.event.outcome === 'delivered') delivered++;
      else refused++;
    }
  }
  return { waiting, delivered, refused };
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

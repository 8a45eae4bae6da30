import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { PollRequest } from '../backend.js';
import { leasedOfMeta } from '../convert.js';
import { type LeasedMessage, StoredMetaSchema, safeJson } from '../protocol.js';
import { META_HEADER, replyOf } from './nats-names.js';

/**
 * A poll on a session's durable pull consumer: wait for a first message (interrupted when the HTTP caller
 * goes away or NATS drops the connection), fetch what else is pending, and turn what was delivered into
 * leased messages, settling at once what must never be handed out.
 */
const MAX_FETCH = 10;

/** The messages one poll leases from `consumer`; `onDisconnect` holds the waits to wake when NATS drops. */
export async function take(
  consumer: Consumer,
  request: PollRequest,
  onDisconnect: Set<() => void>,
): Promise<JsMsg[]> {
  // `next` waits at least a second; a poll that must not wait first asks whether anything is there.
  if (request.waitMs < 1000 && (await consumer.info()).num_pending === 0) return [];
  const first = await next(consumer, Math.max(1000, request.waitMs), onDisconnect, request.signal);
  if (!first) return [];
  const taken: JsMsg[] = [first];
  const more = Math.min(first.info.pending, request.max - 1, MAX_FETCH - 1);
  if (more > 0) {
    try {
      for await (const m of await consumer.fetch({ max_messages: more, expires: 1000 })) taken.push(m);
    } catch {
      // The first message is enough for this answer; the rest waits for the next poll.
    }
  }
  return taken;
}

/** The leased messages of `name`'s inbox among `msgs`; the others are dropped, acked or handed back. */
export function leased(msgs: readonly JsMsg[], name: string, now: number): LeasedMessage[] {
  const out: LeasedMessage[] = [];
  for (const m of msgs) {
    const meta = StoredMetaSchema.safeParse(safeJson(m.headers?.get(META_HEADER) ?? ''));
    if (!meta.success || meta.data.to !== name) {
      // Not a message this relay wrote: it would be handed out forever; drop it from the queue.
      m.term();
      continue;
    }
    if (now >= meta.data.sentAt + meta.data.ttlMs) {
      m.ack();
      continue;
    }
    const reply = replyOf(m);
    if (reply === undefined) {
      m.nak();
      continue;
    }
    out.push(leasedOfMeta(meta.data, m.string(), reply));
  }
  return out;
}

/**
 * One message, waiting up to `expiresMs`; null as soon as the HTTP caller goes away or NATS drops the
 * connection. A message that still arrives for an abandoned wait is handed back (nak) at once.
 */
async function next(
  consumer: Consumer,
  expiresMs: number,
  onDisconnect: Set<() => void>,
  signal?: AbortSignal,
): Promise<JsMsg | null> {
  if (signal?.aborted) return null;
  const pending = consumer.next({ expires: expiresMs });
  let interrupt = () => {};
  const interrupted = new Promise<'interrupted'>((resolve) => {
    interrupt = () => resolve('interrupted');
  });
  onDisconnect.add(interrupt);
  signal?.addEventListener('abort', interrupt, { once: true });
  try {
    const first = await Promise.race([pending, interrupted]);
    if (first !== 'interrupted') return first;
    void pending.then(
      (m) => m?.nak(),
      () => {},
    );
    return null;
  } finally {
    onDisconnect.delete(interrupt);
    signal?.removeEventListener('abort', interrupt);
  }
}

import { promises as fs } from 'node:fs';
import type { SentEvent } from '../log/events.js';
import type { LeasedMessage } from '../remote/protocol.js';
import type { RelayContext } from './context.js';

/**
 * Puts a message polled from the remote relay into this store's inbox under its own key, so every local
 * delivery path (poll, long-poll, push, hook) hands it out, exactly once, like a local message. A key that
 * is already here (or already settled here) is the same message handed out again after a lost ack: it is
 * not written twice, so it is not delivered twice.
 */
export async function importRemote(ctx: RelayContext, to: string, m: LeasedMessage): Promise<boolean> {
  if (await ctx.store.readSettled(to, m.key)) return false;
  const event: SentEvent = {
    v: 1,
    kind: 'sent',
    key: m.key,
    id: m.id,
    at: m.key.slice(0, 22),
    sentAt: m.sentAt,
    from: m.from,
    machine: m.fromMachine,
    origin: m.fromMachine,
    to,
    type: m.type,
    body: m.body,
    ...(m.replyTo === undefined ? {} : { replyTo: m.replyTo }),
    ttlMs: m.ttlMs,
  };
  if (await fs.stat(ctx.store.paths.file('inbox', to, `${m.key}.json`)).catch(() => undefined)) return false;
  await ctx.store.appendSent(event);
  return true;
}

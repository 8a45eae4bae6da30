import { sentEventOf } from '../../remote/convert.js';
import type { LeasedMessage } from '../../remote/protocol.js';
import type { RelayContext } from '../context.js';

/**
 * Puts a message polled from the remote relay into this store's inbox under its own key, so every local
 * delivery path (poll, long-poll, push, hook) hands it out, exactly once, like a local message. A key that
 * is already here (or already settled here) is the same message handed out again after a lost ack: it is
 * not written twice, so it is not delivered twice.
 */
export async function importRemote(ctx: RelayContext, to: string, m: LeasedMessage): Promise<boolean> {
  if (await ctx.store.readSettled(to, m.key)) return false;
  const event = sentEventOf(m, to);
  if (await ctx.store.hasInboxFile(to, m.key)) return false;
  await ctx.store.appendSent(event);
  return true;
}

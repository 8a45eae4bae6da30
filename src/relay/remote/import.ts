import { sentEventOf } from '../../remote/convert.js';
import type { LeasedMessage } from '../../remote/protocol.js';
import { appendScoped } from '../../remote/scoped.js';
import type { RelayContext } from '../context.js';

/**
 * Puts a message polled from the remote relay into this store's inbox under its key scoped by the sending
 * machine (src/remote/scoped.ts), so every local delivery path (poll, long-poll, push, hook) hands it out,
 * exactly once, like a local message, and no other machine's message with the same key can take its place.
 * A message of that machine and key already here (or already settled here) is the same message handed out
 * again after a lost ack: it is not written twice, so it is not delivered twice.
 */
export async function importRemote(
  ctx: Pick<RelayContext, 'store'>,
  to: string,
  m: LeasedMessage,
): Promise<boolean> {
  return (await appendScoped(ctx.store, sentEventOf(m, to))).result === 'created';
}

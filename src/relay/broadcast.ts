import type { SentEvent } from '../log/events.js';
import type { RelayContext } from './context.js';
import { listLiveSessions } from './live-sessions.js';
import { appendMessages, checkSend } from './send.js';

/** Sends one message to every live session but the sender; resolves the copies written. */
export async function broadcastMessage(
  ctx: RelayContext,
  input: { message: string; type?: string | undefined },
): Promise<SentEvent[]> {
  const { type } = checkSend(input, ctx.config.limits);
  // Listed inside the send queue, so the broadcast keeps its place among this sender's calls.
  const recipients = async () =>
    (await listLiveSessions(ctx)).map((s) => s.name).filter((n) => n !== ctx.me.name);
  return appendMessages(ctx, recipients, input.message, type);
}

import type { SentEvent } from '../log/events.js';
import { checkBody } from '../projections/limits.js';
import type { RelayContext } from './context.js';
import { appendMessages, validateType } from './send.js';
import { listLiveSessions } from './sessions.js';

/** Sends one message to every live session but the sender; resolves the copies written. */
export async function broadcastMessage(
  ctx: RelayContext,
  input: { message: string; type?: string | undefined },
): Promise<SentEvent[]> {
  const type = validateType(input.type);
  checkBody(input.message, ctx.config.limits);
  const recipients = (await listLiveSessions(ctx)).map((s) => s.name).filter((n) => n !== ctx.me.name);
  if (recipients.length === 0) return [];
  return appendMessages(ctx, recipients, input.message, type);
}

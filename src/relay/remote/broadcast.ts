import type { SentEvent } from '../../log/events.js';
import { broadcastMessage } from '../broadcast.js';
import type { RelayContext } from '../context.js';
import { checkSend } from '../send.js';
import type { RemoteLink } from './link.js';
import { appendOutbox } from './outbox.js';

/**
 * `relay_broadcast` with a relay configured: every other live session of this machine, then each live
 * session of every other machine once (as the relay lists them), each through the outbox like a send to
 * `machine:name`. The whole call counts once against the rate limit, as a local broadcast does. A remote
 * copy's `to` is `machine:name`. When the relay cannot be asked, only this machine is reached and
 * `link.problem` says why.
 */
export async function broadcastRouted(
  ctx: RelayContext,
  link: RemoteLink | undefined,
  input: { message: string; type?: string | undefined },
): Promise<SentEvent[]> {
  const local = await broadcastMessage(ctx, input);
  if (!link) return local;
  const { type } = checkSend(input, ctx.config.limits);
  const others = (await link.remoteSessions()) ?? [];
  const targets = [...new Map(others.map((s) => [`${s.machine}:${s.name}`, s])).values()];
  if (targets.length === 0) return local;
  const attempts = await ctx.sends.run(async () => {
    const sent: ReturnType<RemoteLink['afterQueued']>[] = [];
    for (const [i, s] of targets.entries()) {
      const entry = await appendOutbox(
        ctx,
        { machine: s.machine, name: s.name },
        { body: input.message, type },
        // The local copies were counted; else the first remote copy counts. Only the last is indexed.
        { checkRate: i === 0 && local.length === 0, indexed: i === targets.length - 1 },
      );
      sent.push(link.afterQueued(entry));
    }
    return sent;
  });
  const remote = await Promise.allSettled(attempts);
  const copies = remote.flatMap((r) =>
    r.status === 'fulfilled' ? [{ ...r.value.event, to: r.value.result.to }] : [],
  );
  return [...local, ...copies];
}

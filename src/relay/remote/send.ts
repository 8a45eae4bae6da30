import type { SentEvent } from '../../log/events.js';
import type { RelayContext } from '../context.js';
import { listLiveSessions } from '../live-sessions.js';
import {
  appendMessages,
  checkSend,
  type NotJoined,
  type SendInput,
  sendMessage,
  validateReplyTo,
  validateType,
} from '../send.js';
import { type Address, parseAddress } from './address.js';
import type { RemoteLink, RemoteSendResult } from './link.js';
import { appendOutbox } from './outbox.js';

export interface RoutedSend {
  readonly event: SentEvent;
  readonly live: boolean;
  /** Set when the message went to the relay: where to, and whether it is there yet or waits in the outbox. */
  readonly remote?: RemoteSendResult;
  /** Set when no session of that name has joined this machine yet: the message waits for one. */
  readonly notJoined?: NotJoined;
}

/**
 * `relay_send`: to this machine's log, or through the outbox to the remote relay. Nothing is awaited before
 * the send takes its place in the sender's queue, so concurrent calls land in the order they came (INV-ORDER).
 */
export function sendRouted(
  ctx: RelayContext,
  link: RemoteLink | undefined,
  input: SendInput,
): Promise<RoutedSend> {
  let route: Address;
  try {
    route = parseAddress(ctx.me.machine, input.to, link !== undefined);
  } catch (e) {
    return Promise.reject(e);
  }
  if (route.kind === 'local' || link === undefined) {
    return sendMessage(ctx, route.name === input.to ? input : { ...input, to: route.name });
  }
  if (route.kind === 'remote') return sendRemote(link, route, input);
  return sendEither(ctx, link, route.name, input);
}

async function sendRemote(
  link: RemoteLink,
  route: { machine: string; name: string },
  input: SendInput,
): Promise<RoutedSend> {
  const type = validateType(input.type);
  const replyTo = validateReplyTo(input.replyTo);
  const { event, result } = await link.send(route, { body: input.message, type, replyTo });
  return { event, live: result.live, remote: result };
}

/** A bare name with a relay: local if it ever joined here, decided inside the sender's queue; else the relay. */
async function sendEither(
  ctx: RelayContext,
  link: RemoteLink,
  to: string,
  input: SendInput,
): Promise<RoutedSend> {
  const { type, replyTo } = checkSend(input, ctx.config.limits);
  let isLive = false;
  const queued: { sent?: ReturnType<RemoteLink['afterQueued']> } = {};
  const [event] = await appendMessages(
    ctx,
    async () => {
      const live = await listLiveSessions(ctx);
      isLive = live.some((s) => s.name === to);
      if (isLive || (await ctx.store.sessionNames()).includes(to)) return [to];
      // Already in the queue: the outbox entry is written and its attempt started here, in this send's turn;
      // no local copy is made.
      queued.sent = link.afterQueued(
        await appendOutbox(ctx, { name: to }, { body: input.message, type, replyTo }),
      );
      return [];
    },
    input.message,
    type,
    replyTo,
  );
  if (queued.sent) {
    const sent = await queued.sent;
    return { event: sent.event, live: sent.result.live, remote: sent.result };
  }
  if (!event) throw new Error('appendMessages returned no event');
  return { event, live: isLive };
}

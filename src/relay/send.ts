import { RelayError } from '../errors.js';
import { formatStamp, parseStamp } from '../log/clock.js';
import { ID_PATTERN, MESSAGE_TYPES, type MessageType, type SentEvent } from '../log/events.js';
import { validateName } from '../log/names.js';
import { closestName } from '../projections/closest-name.js';
import { checkBody, checkRate, type Limits, RATE_WINDOW_MS } from '../projections/limits.js';
import { foldSessions, liveSessions } from '../projections/sessions.js';
import { livenessView, type RelayContext } from './context.js';
import { messageId, randomId } from './ids.js';
import { listLiveSessions } from './live-sessions.js';

export interface SendInput {
  readonly to: string;
  readonly message: string;
  readonly type?: string | undefined;
  readonly replyTo?: string | undefined;
}

export function validateType(type: unknown): MessageType {
  if (type === undefined) return 'info';
  if (typeof type === 'string' && (MESSAGE_TYPES as readonly string[]).includes(type))
    return type as MessageType;
  throw new RelayError(
    'bad_input',
    `Expected \`type\` to be one of request, info, response, got ${JSON.stringify(String(type)).slice(0, 30)}.`,
  );
}

export function validateReplyTo(replyTo: unknown): string | undefined {
  if (replyTo === undefined || replyTo === '') return undefined;
  // A model copies the id as relay_poll shows it, `#482113`; the `#` is not part of the id.
  const id = typeof replyTo === 'string' ? replyTo.replace(/^#/, '') : replyTo;
  if (typeof id === 'string' && ID_PATTERN.test(id)) return id;
  throw new RelayError(
    'bad_input',
    `Expected \`reply_to\` to be a message id like "482113" (as relay_poll shows it), got ${JSON.stringify(String(replyTo)).slice(0, 30)}.`,
  );
}

/** A send's edge: its type, its reply id and its body, each checked once, in that order. */
export function checkSend(
  input: Pick<SendInput, 'message' | 'type' | 'replyTo'>,
  limits: Limits,
): { type: MessageType; replyTo: string | undefined } {
  const type = validateType(input.type);
  const replyTo = validateReplyTo(input.replyTo);
  checkBody(input.message, limits);
  return { type, replyTo };
}

/** The wall times of a sender's sends still in the rate window, read from the log; also advances the clock. */
export async function recentSends(
  ctx: RelayContext,
  from: string,
): Promise<{ times: number[]; stale: string[] }> {
  const keys = await ctx.store.sentKeys(from);
  const now = ctx.clock.wall();
  const times: number[] = [];
  const stale: string[] = [];
  keys.forEach((key, i) => {
    const stamp = parseStamp(key.slice(0, 22));
    if (!stamp) return;
    // A restarted sender continues after its own last stamp, whatever the wall clock says.
    ctx.clock.observe(stamp);
    times.push(stamp.ms);
    // The newest link is kept as the clock's memory; older ones outside the window are only index.
    if (now - stamp.ms >= RATE_WINDOW_MS && i < keys.length - 1) stale.push(key);
  });
  return { times, stale };
}

function makeEvent(
  ctx: RelayContext,
  to: string,
  body: string,
  type: MessageType,
  replyTo?: string,
  broadcast?: string,
): SentEvent {
  return {
    v: 1,
    kind: 'sent',
    ...newMessageFields(ctx),
    to,
    type,
    body,
    ...(replyTo === undefined ? {} : { replyTo }),
    ...(broadcast === undefined ? {} : { broadcast }),
  };
}

/** The fields every new message of this sender carries, local or bound for the relay: stamp, id, sender. */
export function newMessageFields(ctx: RelayContext) {
  const at = formatStamp(ctx.clock.tick());
  const id = messageId();
  return {
    key: `${at}-${id}`,
    id,
    at,
    sentAt: Math.floor(ctx.clock.wall()),
    from: ctx.me.name,
    machine: ctx.me.machine,
    ttlMs: ctx.config.limits.ttlMs,
    ...(ctx.me.by === undefined ? {} : { by: ctx.me.by }),
  };
}

/**
 * Appends copies of one message for each recipient, durably, after the rate check (the send's edge,
 * `checkSend`, checked the body). One call
 * counts once against the rate limit. Runs in the sender's queue, so sends land in call order. When the
 * recipients depend on the log (who is live, who exists), pass a function: it runs inside the queue, so a
 * slower look-up cannot let a later call overtake an earlier one. No recipients: nothing is sent or counted.
 */
export async function appendMessages(
  ctx: RelayContext,
  recipients: readonly string[] | (() => Promise<readonly string[]>),
  body: string,
  type: MessageType,
  replyTo?: string,
): Promise<SentEvent[]> {
  return ctx.sends.run(async (release) => {
    const to = typeof recipients === 'function' ? await recipients() : recipients;
    if (to.length === 0) return [];
    const { times, stale } = await recentSends(ctx, ctx.me.name);
    checkRate(times, ctx.clock.wall(), ctx.config.limits);
    const broadcast = to.length > 1 ? randomId(6) : undefined;
    await ctx.store.unindexSent(ctx.me.name, stale);
    const events: SentEvent[] = [];
    for (const [i, name] of to.entries()) {
      const event = makeEvent(ctx, name, body, type, replyTo, broadcast);
      // Only the last copy is indexed: the index counts calls, and its newest stamp is the clock's memory.
      // Once it is visible the next send may start; this one's answer still waits for its own fsync.
      const last = i === to.length - 1;
      await ctx.store.appendSent(event, last ? ctx.me.name : undefined, last ? release : undefined);
      events.push(event);
    }
    return events;
  });
}

/** A send to a name that never joined: it waits for a session of that name; `closest` may be the one meant. */
export interface NotJoined {
  readonly closest?: string | undefined;
}

/** The one line that answers a send to a name that has not joined yet, in the tool and at the terminal. */
export function notJoinedLine(id: string, to: string, closest?: string): string {
  const guess = closest === undefined ? '.' : ` (did you mean "${closest}"?)`;
  return `Queued #${id} for ${to}: no session of that name has joined yet${guess}`;
}

/**
 * Sends one message to a session on this machine. The sender is always the caller's own identity. A name
 * that never joined is not refused: people leave notes for the session they open next, so the message
 * waits (TTL as usual) and `notJoined` says so, with the closest live name in case of a typo.
 */
export async function sendMessage(
  ctx: RelayContext,
  input: SendInput,
): Promise<{ event: SentEvent; live: boolean; notJoined?: NotJoined }> {
  const to = validateName(input.to, 'to');
  const { type, replyTo } = checkSend(input, ctx.config.limits);
  let isLive = false;
  let notJoined: NotJoined | undefined;
  const [event] = await appendMessages(
    ctx,
    async () => {
      // Only the recipient's own session folder is read: a send must not cost more as sessions come and go.
      const mine = await ctx.store.latestSessionEventsOf(to);
      isLive = liveSessions(foldSessions(mine), livenessView(ctx)).length > 0;
      if (mine.length === 0 && !(await ctx.store.sessionNames()).includes(to)) {
        const names = (await listLiveSessions(ctx)).map((s) => s.name);
        notJoined = { closest: closestName(to, names) };
      }
      return [to];
    },
    input.message,
    type,
    replyTo,
  );
  if (!event) throw new Error('appendMessages returned no event');
  return { event, live: isLive, ...(notJoined ? { notJoined } : {}) };
}

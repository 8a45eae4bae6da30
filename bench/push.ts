import { ChannelNotificationSchema } from '../tests/support/stdio.js';
import { type BenchContext, reps } from './context.js';
import type { Figure } from './figures.js';
import { callOk, type Served } from './stdio.js';
import { tokens } from './tokenize.js';
import { BODIES, SENDER } from './tokens.js';

/**
 * Channel push (Claude Code's `notifications/claude/channel`), seen from a real MCP client: what a pushed
 * message and a notice cost the model as Claude Code shows them, and what arrives while nothing happens.
 */
const BODY = BODIES[0];

export interface Channel {
  readonly content: string;
  readonly meta: Record<string, string>;
}

/** How Claude Code shows a channel notification to the model (see the harness README). */
export function renderChannel(n: Channel, server = 'relay'): string {
  const attrs = Object.entries(n.meta)
    .map(([k, v]) => ` ${k}="${v}"`)
    .join('');
  return `<channel source="${server}"${attrs}>\n${n.content}\n</channel>`;
}

/** Collects the channel notifications a client receives. */
export function channelInbox(served: Served): {
  received: Channel[];
  next: (timeoutMs: number) => Promise<Channel>;
} {
  const received: Channel[] = [];
  const waiters: Array<(n: Channel) => void> = [];
  served.client.setNotificationHandler(ChannelNotificationSchema, (n) => {
    const channel = { content: n.params.content, meta: n.params.meta ?? {} };
    received.push(channel);
    waiters.shift()?.(channel);
  });
  const next = (timeoutMs: number) =>
    new Promise<Channel>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no channel notification within ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiters.push((n) => {
        clearTimeout(timer);
        resolve(n);
      });
    });
  return { received, next };
}

/** The per-message figures of push, and what a pushing session receives while idle (scaled to 8 h). */
export async function measurePush(
  ctx: BenchContext,
  served: { deliver: Served; notify: Served; api: Served },
  f: Record<string, Figure>,
): Promise<number> {
  const deliverInbox = channelInbox(served.deliver);
  const notifyInbox = channelInbox(served.notify);
  // While nothing is sent, a pushing session should cost nothing: count what arrives in an idle window.
  const idleMs = reps(ctx, 3000, 300);
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const idleTokens = [...deliverInbox.received, ...notifyInbox.received].reduce(
    (sum, n) => sum + tokens(renderChannel(n)),
    0,
  );

  f['tokens.push.instructions'] = {
    label: 'push (deliver mode): server instructions, re-sent with every request',
    unit: 'tokens',
    value: tokens(served.deliver.client.getInstructions() ?? ''),
  };
  const pushed = deliverInbox.next(10_000);
  await callOk(served.api, 'relay_send', { to: 'pushed', message: BODY });
  const message = renderChannel(await pushed);
  f['tokens.push.message'] = {
    label: `push (deliver mode): one message as the model reads it, beyond the body (sender "${SENDER}")`,
    unit: 'tokens',
    value: tokens(message) - tokens(BODY),
    note: `counted on ${JSON.stringify(message)}`,
  };
  const noticed = notifyInbox.next(10_000);
  await callOk(served.api, 'relay_send', { to: 'notified', message: BODY });
  const notice = renderChannel(await noticed);
  f['tokens.push.notice'] = {
    label:
      'push (notify mode, the default for Claude Code): the notice of one message (then a poll reads it)',
    unit: 'tokens',
    value: tokens(notice),
    note: `counted on ${JSON.stringify(notice)}`,
  };
  return (idleTokens * 8 * 3600 * 1000) / idleMs;
}

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { RelayError } from '../errors.js';
import type { SentEvent } from '../log/events.js';
import type { RelaySession } from '../relay/serve-session.js';

/**
 * How mail reaches the model by itself. `native`: posted into Claude Code's own inbox socket (`native.ts`).
 * Otherwise channel push (Claude Code's `notifications/claude/channel`). The server cannot see whether the
 * client shows these notifications (Claude Code does so only in interactive sessions started with channels
 * enabled), so a pushed message counts as delivered only when the user said push works (`deliver`):
 *
 * - `deliver`: each new message is taken (consumed via `channel`) and pushed whole;
 * - `notify`: a short notice names who wrote; the messages wait for a poll or a hook;
 * - `off`: nothing is pushed and the capability is not declared.
 *
 * Unset, the mode is `native` where the client gave this process its inbox socket (Claude Code 2.1.224+),
 * `notify` for an older Claude Code and `off` for other clients.
 */
export type PushMode = 'native' | 'deliver' | 'notify' | 'off';
export const PUSH_MODES = ['native', 'deliver', 'notify', 'off'] as const;
/** Set by Claude Code 2.1.224+ for every process of a session; checked here so the native code loads only then. */
const NATIVE_SOCKET_ENV = 'CLAUDE_CODE_MESSAGING_SOCKET';
export const CHANNEL_METHOD = 'notifications/claude/channel';

export function pushModeFromEnv(env: NodeJS.ProcessEnv = process.env): PushMode | undefined {
  const raw = env.RELAY_PUSH;
  if (raw === undefined || raw === '') return env[NATIVE_SOCKET_ENV] ? 'native' : undefined;
  if ((PUSH_MODES as readonly string[]).includes(raw)) return raw as PushMode;
  throw new RelayError(
    'bad_input',
    `RELAY_PUSH must be native, deliver, notify or off, got ${JSON.stringify(raw.slice(0, 20))}; fix or unset it.`,
  );
}

/** Claude Code is the one client known to read channel pushes; others get none unless asked. */
export function choosePush(configured: PushMode | undefined, clientName: string | undefined): PushMode {
  if (configured !== undefined) return configured;
  return clientName === 'claude-code' ? 'notify' : 'off';
}

/** Meta keys become attributes of the <channel> tag the model reads: identifiers only, never the body. */
export function channelMeta(m: SentEvent, again = false): Record<string, string> {
  return {
    from: m.from,
    type: m.type,
    id: m.id,
    ...(again ? { again: 'true' } : {}),
    ...(m.origin === undefined ? {} : { origin: m.origin }),
    ...(m.replyTo === undefined ? {} : { reply_to: m.replyTo }),
    ...(m.by === undefined ? {} : { by: m.by }),
  };
}

export function formatNotice(senders: readonly string[], count: number): string {
  const from = [...new Set(senders)].join(', ');
  return `${count} new relay message(s) from ${from}: call relay_poll to read.`;
}

/**
 * `pass` run one at a time: a wake-up during a pass schedules one more pass, so whatever landed meanwhile is
 * taken together. A failed pass is reported; the next wake-up tries again.
 */
export function onePassAtATime(pass: () => Promise<void>, onError: (e: unknown) => void): () => void {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await pass();
      } while (again);
    } catch (e) {
      onError(e);
    } finally {
      running = false;
    }
  };
  return () => void run();
}

export class ChannelPush {
  private readonly server: McpServer;
  private readonly session: RelaySession;
  private readonly mode: 'deliver' | 'notify';
  private readonly notified = new Set<string>();
  private readonly run: () => void;
  private unsubscribe: (() => void) | undefined;

  constructor(
    server: McpServer,
    session: RelaySession,
    mode: 'deliver' | 'notify',
    onError: (e: unknown) => void,
  ) {
    this.server = server;
    this.session = session;
    this.mode = mode;
    this.run = onePassAtATime(() => (this.mode === 'deliver' ? this.deliver() : this.notify()), onError);
  }

  async start(): Promise<void> {
    await this.session.watch.start();
    if (this.mode === 'deliver') await this.session.setPush('channel');
    this.unsubscribe = this.session.watch.subscribe(this.run);
    this.run();
  }

  stop(): void {
    this.unsubscribe?.();
  }

  /** One message per take: each is consumed once its notification has been written out, not before. */
  private async deliver(): Promise<void> {
    for (;;) {
      const taken = await this.session.take({ via: 'channel', maxMessages: 1 });
      const m = taken.messages[0];
      if (!m) return;
      try {
        await this.server.server.notification({
          method: CHANNEL_METHOD,
          params: { content: m.body, meta: channelMeta(m, taken.again.has(m.key)) },
        });
      } catch (e) {
        // The connection is gone: the message goes back to the inbox for the next session.
        await taken.release();
        throw e;
      }
      await taken.commit();
    }
  }

  private async notify(): Promise<void> {
    const ctx = this.session.ctx;
    const fresh: SentEvent[] = [];
    const keys = await ctx.store.inboxKeys(this.session.name);
    // Forget what has left the inbox, so the set stays as small as the unread mail.
    const present = new Set(keys);
    for (const key of this.notified) if (!present.has(key)) this.notified.delete(key);
    for (const key of keys) {
      if (this.notified.has(key)) continue;
      this.notified.add(key);
      const m = await ctx.store.readInbox(this.session.name, key);
      if (m) fresh.push(m);
    }
    if (fresh.length === 0) return;
    await this.server.server.notification({
      method: CHANNEL_METHOD,
      params: {
        content: formatNotice(
          fresh.map((m) => m.from),
          fresh.length,
        ),
        meta: { count: String(fresh.length) },
      },
    });
  }
}

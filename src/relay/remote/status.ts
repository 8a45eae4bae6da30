import { RemoteClient } from '../../remote/client.js';
import type { RelayContext } from '../context.js';
import { type OutboxCounts, outboxCounts } from './outbox.js';

export interface RemoteStatus {
  readonly configured: boolean;
  /** The relay's URL without any credentials; the API key is never part of a status. */
  readonly url?: string;
  readonly reachable?: boolean;
  readonly version?: string;
  readonly backend?: { readonly kind: string; readonly ok: boolean; readonly detail?: string | undefined };
  /** Why the relay could not be reached, in one sentence. */
  readonly problem?: string;
  readonly outbox: OutboxCounts;
}

/** For `claude-relay status`: is a relay configured, does it answer `/health`, what waits in the outbox. */
export async function readRemoteStatus(ctx: RelayContext): Promise<RemoteStatus> {
  const outbox = await outboxCounts(ctx.store);
  const remote = ctx.config.remote;
  if (!remote) return { configured: false, outbox };
  const client = new RemoteClient({ url: remote.url, apiKey: remote.apiKey, timeoutMs: remote.timeoutMs });
  try {
    const health = await client.health();
    return {
      configured: true,
      url: client.shownUrl,
      reachable: true,
      version: health.version,
      backend: health.backend,
      outbox,
    };
  } catch (e) {
    return {
      configured: true,
      url: client.shownUrl,
      reachable: false,
      problem: e instanceof Error ? e.message : String(e),
      outbox,
    };
  }
}

/** The lines `status` prints about the relay. */
export function formatRemoteStatus(s: RemoteStatus): string[] {
  const waiting = `${s.outbox.waiting} send(s) waiting in the outbox`;
  const done = `${s.outbox.delivered} delivered, ${s.outbox.refused} refused`;
  if (!s.configured) {
    const lines = [
      'remote relay: not configured (set RELAY_REMOTE_URL and RELAY_API_KEY to reach other machines)',
    ];
    if (s.outbox.waiting > 0) lines.push(`  ${waiting}: they go out once a relay is configured`);
    return lines;
  }
  if (!s.reachable)
    return [`remote relay: ${s.url} unreachable — ${s.problem ?? 'no answer'}`, `  ${waiting}; ${done}`];
  const backend = s.backend
    ? `, ${s.backend.kind} backend ${s.backend.ok ? 'ok' : `down${s.backend.detail ? ` (${s.backend.detail})` : ''}`}`
    : '';
  return [
    `remote relay: ${s.url} reachable (version ${s.version ?? '?'}${backend})`,
    `  ${waiting}; ${done}`,
  ];
}

import { RemoteClient } from '../../remote/client.js';
import { isRemoteError } from '../../remote/errors.js';
import type { RelayContext } from '../context.js';
import type { RemoteConfig } from './config.js';
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
  /** The relay answers but refuses this machine's API key: sends wait until it is fixed. */
  readonly refused?: string;
  readonly outbox: OutboxCounts;
}

/**
 * Why the relay refuses this machine's key (wrong, revoked, another machine's), or undefined when it takes
 * it. An authenticated read that changes nothing at the relay; a network failure is thrown.
 */
export async function keyRefusal(remote: RemoteConfig): Promise<string | undefined> {
  const client = new RemoteClient({ url: remote.url, apiKey: remote.apiKey, timeoutMs: remote.timeoutMs });
  try {
    await client.sessions();
    return undefined;
  } catch (e) {
    if (isRemoteError(e) && (e.status === 401 || e.status === 403))
      return `it refuses this machine's API key (${e.message})`;
    throw e;
  }
}

/** For `claude-relay status`: is a relay configured, does it answer `/health`, what waits in the outbox. */
export async function readRemoteStatus(ctx: RelayContext): Promise<RemoteStatus> {
  const outbox = await outboxCounts(ctx.store);
  const remote = ctx.config.remote;
  if (!remote) return { configured: false, outbox };
  const client = new RemoteClient({ url: remote.url, apiKey: remote.apiKey, timeoutMs: remote.timeoutMs });
  try {
    const health = await client.health();
    const refused = await keyRefusal(remote);
    return {
      configured: true,
      url: client.shownUrl,
      reachable: true,
      version: health.version,
      backend: health.backend,
      ...(refused === undefined ? {} : { refused }),
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
  if (s.refused) return [`remote relay: ${s.url} answers, but ${s.refused}`, `  ${waiting}; ${done}`];
  return [
    `remote relay: ${s.url} reachable (version ${s.version ?? '?'}${backend})`,
    `  ${waiting}; ${done}`,
  ];
}

import type { HeartbeatEvent, RelayEvent } from '../log/events.js';
import { listQuarantined } from '../log/quarantined.js';
import type { Problem } from '../log/store.js';
import { type DashboardData, projectDashboard } from '../projections/dashboard.js';
import { RemoteClient } from '../remote/client.js';
import { livenessView, type RelayContext } from './context.js';
import { type OutboxCounts, outboxCounts, pendingOutbox } from './remote/outbox.js';
import { presenceAsHeartbeat } from './remote/presence.js';

/** Everything the dashboard page shows, as its JSON endpoints give it. */
export interface DashboardView extends Partial<DashboardData> {
  readonly now: number;
  readonly machine: string;
  readonly root: string;
  /** Why the store could not be read; the other fields are then absent. */
  readonly error?: string;
  readonly quarantined?: string[];
  readonly outboxCounts?: OutboxCounts;
  readonly remote?: RemoteSessions;
  /** Files the log skipped while reading (kept from the first read on). */
  readonly problems: Problem[];
}

export interface RemoteSessions {
  readonly url: string;
  readonly sessions?: HeartbeatEvent[];
  /** Why the relay did not answer, in one sentence. */
  readonly problem?: string;
}

/** Live sessions of other machines as the configured relay reports them; undefined when none is configured. */
export async function readRemoteSessions(
  ctx: RelayContext,
  timeoutMs: number,
): Promise<RemoteSessions | undefined> {
  const remote = ctx.config.remote;
  if (!remote) return undefined;
  const client = new RemoteClient({ url: remote.url, apiKey: remote.apiKey, timeoutMs });
  try {
    const sessions = (await client.sessions(timeoutMs))
      .filter((s) => s.machine !== ctx.config.machine)
      .map((s) => presenceAsHeartbeat(s, s.name));
    return { url: client.shownUrl, sessions };
  } catch (e) {
    return { url: client.shownUrl, problem: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Reads the whole store, as `status` does, and folds it into the dashboard's view. Only reads: no message
 * is taken from any inbox. A store that cannot be read gives a view that says why.
 */
export async function readDashboard(
  ctx: RelayContext,
  options: { remote?: RemoteSessions | undefined; problems?: readonly Problem[] } = {},
): Promise<DashboardView> {
  const view = livenessView(ctx);
  const head = {
    now: view.now,
    machine: ctx.config.machine,
    root: ctx.store.root,
    ...(options.remote === undefined ? {} : { remote: options.remote }),
  };
  try {
    const messages: RelayEvent[] = [];
    const names = new Set([
      ...(await ctx.store.namesIn('inbox')),
      ...(await ctx.store.namesIn('archive')),
      ...(await ctx.store.namesIn('settled')),
    ]);
    for (const name of names) {
      for (const area of ['inbox', 'archive', 'settled'] as const) {
        // One folder that cannot be read (a bad name, its permissions) is reported; the rest still shows.
        try {
          messages.push(...(await ctx.store.readArea(area, name)));
        } catch (e) {
          ctx.store.report(`${ctx.store.root}/${area}/${name}`, `could not be read: ${String(e)}`);
        }
      }
    }
    const data = projectDashboard({
      view,
      sessions: await ctx.store.latestSessionEvents(),
      ...(options.remote?.sessions === undefined ? {} : { remoteSessions: options.remote.sessions }),
      messages,
      outbox: await pendingOutbox(ctx.store),
    });
    return {
      ...head,
      // Read after the store was: the problems this very read came upon are in.
      problems: [...(options.problems ?? [])],
      ...data,
      quarantined: await listQuarantined(ctx.store),
      outboxCounts: await outboxCounts(ctx.store),
    };
  } catch (e) {
    return {
      ...head,
      problems: [...(options.problems ?? [])],
      error: e instanceof Error ? e.message : String(e),
    };
  }
}

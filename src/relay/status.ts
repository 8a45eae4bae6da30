import { countsByPath, foldInbox, inboxCounts } from '../projections/inbox.js';
import { isLive } from '../projections/sessions.js';
import { presenceOf } from '../remote/convert.js';
import type { Presence } from '../remote/protocol.js';
import { livenessView, type RelayContext } from './context.js';
import { readSessions } from './live-sessions.js';

/** A session's presence (without its instance, which `status` does not show) and whether it is live. */
export type SessionStatus = Omit<Presence, 'instance'> & { readonly live: boolean };

export interface InboxStatus {
  readonly name: string;
  readonly queued: number;
  readonly delivered: number;
  readonly expired: number;
}

/**
 * Where an inbox's delivered messages went: `handed` to the client (native, channel; it acknowledges
 * nothing, so this is as far as the log can tell), or `returned` to the model in an answer (poll, long-poll,
 * hook, cli).
 */
export interface DeliveryStatus {
  readonly name: string;
  readonly handed: number;
  readonly returned: number;
}

export interface StatusReport {
  readonly root: string;
  readonly sessions: SessionStatus[];
  readonly inboxes: InboxStatus[];
  /** One row per inbox, in the order of `inboxes`. */
  readonly deliveries: DeliveryStatus[];
  readonly storeBytes: number;
  readonly tempFiles: number;
}

/**
 * What `claude-relay status` shows. Reads the whole store, unlike a poll: it is for a person, not for the
 * hot path.
 */
export async function readStatus(ctx: RelayContext): Promise<StatusReport> {
  const view = livenessView(ctx);
  const sessions: SessionStatus[] = [];
  for (const instances of (await readSessions(ctx)).values()) {
    for (const event of instances.values()) {
      if (event.kind !== 'heartbeat') continue;
      const { instance: _instance, ...presence } = presenceOf(event);
      sessions.push({ ...presence, live: isLive(event, view) });
    }
  }
  sessions.sort((a, b) => Number(b.live) - Number(a.live) || a.name.localeCompare(b.name));

  const snapshot = await ctx.store.readSnapshot();
  const names = new Set([
    ...(await ctx.store.namesIn('inbox')),
    ...(await ctx.store.namesIn('settled')),
    ...Object.keys(snapshot.totals),
  ]);
  const inboxes: InboxStatus[] = [];
  const deliveries: DeliveryStatus[] = [];
  for (const name of [...names].sort()) {
    const events = [
      ...(await ctx.store.readArea('inbox', name)),
      ...(await ctx.store.readArea('archive', name)),
      ...(await ctx.store.readArea('settled', name)),
    ];
    const state = foldInbox(events);
    const counts = inboxCounts(state, name);
    const packed = snapshot.totals[name] ?? { delivered: 0, expired: 0, returned: 0 };
    inboxes.push({
      name,
      queued: counts.queued,
      // A message put back after a cancelled request counts once, by the delivery that reached a model.
      delivered: counts.delivered + packed.delivered - counts.returned - packed.returned,
      expired: counts.expired + packed.expired,
    });
    const paths = countsByPath(state, name);
    const packedHanded = packed.handed ?? 0;
    // Put-back messages were taken by cancelled requests (answers), never handed to a client.
    const returned = paths.returned + packed.delivered - packedHanded - counts.returned - packed.returned;
    deliveries.push({ name, handed: paths.handed + packedHanded, returned });
  }
  const usage = await ctx.store.usage();
  return {
    root: ctx.store.root,
    sessions,
    inboxes,
    deliveries,
    storeBytes: usage.store.bytes,
    tempFiles: usage.temp.files,
  };
}

import type { HeartbeatEvent } from '../log/events.js';
import { foldSessions, liveSessions, type SessionsState } from '../projections/sessions.js';
import { livenessView, type RelayContext } from './context.js';

export async function readSessions(ctx: Pick<RelayContext, 'store'>): Promise<SessionsState> {
  return foldSessions(await ctx.store.latestSessionEvents());
}

/** The live sessions on this store, one per name, sorted by name. */
export async function listLiveSessions(ctx: RelayContext): Promise<HeartbeatEvent[]> {
  return liveSessions(await readSessions(ctx), livenessView(ctx));
}

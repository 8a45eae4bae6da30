import { formatStamp } from '../log/clock.js';
import type { HeartbeatEvent } from '../log/events.js';
import { foldSessions, isLive } from '../projections/sessions.js';
import { type Identity, livenessView, type RelayContext } from './context.js';
import { randomId } from './ids.js';

const MAX_SUFFIX = 99;

export function newInstanceId(): string {
  return randomId(8);
}

function heartbeat(ctx: RelayContext, me: Identity): HeartbeatEvent {
  const at = formatStamp(ctx.clock.tick());
  return {
    v: 1,
    kind: 'heartbeat',
    name: me.name,
    instance: me.instance,
    at,
    atMs: Math.floor(ctx.clock.wall()),
    pid: me.pid,
    cwd: me.cwd,
    machine: me.machine,
    startedAt: me.startedAt,
    joined: me.joined === '' ? at : me.joined,
    ...(me.client === undefined ? {} : { client: me.client }),
    ...(me.ancestors === undefined ? {} : { ancestors: [...me.ancestors] }),
  };
}

/** Writes a heartbeat for `me` and drops the instance's own older ones, so listing stays O(live sessions). */
export async function beat(ctx: RelayContext, me: Identity = ctx.me): Promise<void> {
  const file = await ctx.store.appendSessionEvent(heartbeat(ctx, me));
  await ctx.store.compactSession(me.name, me.instance, file);
}

export async function leave(
  ctx: RelayContext,
  reason: 'exit' | 'stale' = 'exit',
  me: Identity = ctx.me,
): Promise<void> {
  const file = await ctx.store.appendSessionEvent({
    v: 1,
    kind: 'left',
    name: me.name,
    instance: me.instance,
    at: formatStamp(ctx.clock.tick()),
    atMs: Math.floor(ctx.clock.wall()),
    reason,
  });
  await ctx.store.compactSession(me.name, me.instance, file);
}

/** Live instances of `name` other than `instance`. */
async function rivals(ctx: RelayContext, name: string, instance: string): Promise<HeartbeatEvent[]> {
  const state = foldSessions(await ctx.store.latestSessionEvents());
  const view = livenessView(ctx);
  const out: HeartbeatEvent[] = [];
  for (const event of state.get(name)?.values() ?? []) {
    if (event.kind === 'heartbeat' && event.instance !== instance && isLive(event, view)) out.push(event);
  }
  return out;
}

function candidates(desired: string): string[] {
  const out = [desired];
  const stem = desired.slice(0, 124);
  for (let i = 2; i <= MAX_SUFFIX; i++) out.push(`${stem}-${i}`);
  return out;
}

/**
 * Joins the relay under the first free name of `desired`, `desired-2`, `desired-3`…: free means no other
 * live instance holds it. Two sessions starting at once may both pick a name; each then re-reads, and the
 * one that joined later (by heartbeat stamp, instance id breaking ties) leaves and tries the next name.
 */
export async function join(ctx: RelayContext, desired: string): Promise<Identity> {
  for (const name of candidates(desired)) {
    if ((await rivals(ctx, name, ctx.me.instance)).length > 0) continue;
    const first = heartbeat(ctx, { ...ctx.me, name, joined: '' });
    const me: Identity = { ...ctx.me, name, joined: first.joined };
    await ctx.store.appendSessionEvent(first);
    const earlier = (await rivals(ctx, name, me.instance)).filter(
      (r) => r.joined < me.joined || (r.joined === me.joined && r.instance < me.instance),
    );
    if (earlier.length === 0) return me;
    await leave(ctx, 'exit', me);
  }
  // Every suffix is held: share the name rather than refuse to start; exactly-once still holds.
  const first = heartbeat(ctx, { ...ctx.me, name: desired, joined: '' });
  await ctx.store.appendSessionEvent(first);
  return { ...ctx.me, name: desired, joined: first.joined };
}

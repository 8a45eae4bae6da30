import { formatStamp, parseStamp } from '../log/clock.js';
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
    ...(me.push === undefined ? {} : { push: me.push }),
  };
}

/** Writes a heartbeat for `me` and drops the instance's own older ones, so listing stays O(live sessions). */
export async function beat(ctx: RelayContext, me: Identity = ctx.me): Promise<void> {
  // Another process (clean) may have written this instance's `left: stale` with its own clock while this
  // one was suspended. A heartbeat must sort after every event of its instance, or a live session would
  // stay marked dead: the clock moves past the newest one first.
  for (const event of await ctx.store.latestSessionEventsOf(me.name)) {
    const stamp = event.instance === me.instance ? parseStamp(event.at) : undefined;
    if (stamp) ctx.clock.observe(stamp);
  }
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

function candidates(desired: string): string[] {
  const out = [desired];
  const stem = desired.slice(0, 124);
  for (let i = 2; i <= MAX_SUFFIX; i++) out.push(`${stem}-${i}`);
  return out;
}

/** True when `instance` has a live heartbeat under `name`. */
async function isLiveInstance(ctx: RelayContext, name: string, instance: string): Promise<boolean> {
  const event = foldSessions(await ctx.store.latestSessionEvents())
    .get(name)
    ?.get(instance);
  return event?.kind === 'heartbeat' && isLive(event, livenessView(ctx));
}

/**
 * Joins the relay under the first free name of `desired`, `desired-2`, `desired-3`…. A name is held by the
 * instance of its highest claim (`claims/<name>/<gen>.json`) while that instance is live. Claims are
 * created exclusively, so of two sessions starting at once exactly one gets each generation; the loser
 * looks again and moves on. The heartbeat is written before the claim, so whoever reads a claim also finds
 * its holder live.
 */
export async function join(ctx: RelayContext, desired: string): Promise<Identity> {
  for (const name of candidates(desired)) {
    const first = heartbeat(ctx, { ...ctx.me, name, joined: '' });
    const me: Identity = { ...ctx.me, name, joined: first.joined };
    let announced = false;
    for (;;) {
      const top = await ctx.store.topClaim(name);
      if (top && top.instance !== me.instance && (await isLiveInstance(ctx, name, top.instance))) break;
      if (!announced) {
        await ctx.store.appendSessionEvent(first);
        announced = true;
      }
      const claim = {
        v: 1,
        kind: 'claimed',
        name,
        instance: me.instance,
        gen: (top?.gen ?? 0) + 1,
        atMs: Math.floor(ctx.clock.wall()),
      } as const;
      if (await ctx.store.claim(claim)) return me;
    }
    if (announced) await leave(ctx, 'exit', me);
  }
  // Every suffix is held: share the name rather than refuse to start; exactly-once still holds.
  const first = heartbeat(ctx, { ...ctx.me, name: desired, joined: '' });
  await ctx.store.appendSessionEvent(first);
  return { ...ctx.me, name: desired, joined: first.joined };
}

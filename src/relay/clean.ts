import { fsError, RelayError } from '../errors.js';
import { formatStamp, parseStamp } from '../log/clock.js';
import type { Snapshot } from '../log/snapshot.js';
import { SESSION_FILE } from '../log/store.js';
import { TEMP_AGE_MS } from '../log/temp.js';
import { RATE_WINDOW_MS } from '../projections/limits.js';
import { staleInstances } from '../projections/sessions.js';
import { count, Pack, segmentOf } from './clean-pack.js';
import { stageArchive, sweepInboxes } from './clean-sweep.js';
import { livenessView, type RelayContext } from './context.js';
import { readSessions } from './live-sessions.js';
import { leave } from './membership.js';
import { dropStaleLeases } from './take.js';

export interface CleanReport {
  readonly expired: number;
  /** Settled messages a crash had left in an inbox, now archived. */
  readonly archived: number;
  /** Settled messages packed into the archive segment. */
  readonly packed: number;
  readonly staleSessions: number;
  readonly droppedInstances: number;
  readonly tempRemoved: number;
  readonly quarantined: string[];
  readonly segment?: string;
}

/** Marks dead sessions as left, then moves the files of every instance that has left into the pack. */
async function sweepSessions(ctx: RelayContext, pack: Pack): Promise<{ stale: number; dropped: number }> {
  const stale = staleInstances(await readSessions(ctx), livenessView(ctx));
  for (const beat of stale) {
    // The `left` must sort after the instance's last heartbeat, stamped by another process's clock (same
    // millisecond, or a wall clock that stepped back); otherwise the heartbeat stays its newest event.
    const last = parseStamp(beat.at);
    if (last) ctx.clock.observe(last);
    await leave(ctx, 'stale', { ...ctx.me, name: beat.name, instance: beat.instance });
  }
  let dropped = 0;
  for (const name of await ctx.store.sessionNames()) {
    const byInstance = new Map<string, string[]>();
    for (const file of await ctx.store.filesIn('sessions', name)) {
      const m = SESSION_FILE.exec(file);
      if (!m) continue;
      const files = byInstance.get(m[2] as string) ?? [];
      files.push(file);
      byInstance.set(m[2] as string, files);
    }
    for (const files of byInstance.values()) {
      files.sort();
      const last = files[files.length - 1] as string;
      const newest = await ctx.store.readSessionFile(name, last);
      if (newest?.kind !== 'left') continue;
      for (const file of files) {
        const event = file === last ? newest : await ctx.store.readSessionFile(name, file);
        await pack.add('sessions', name, file, `sessions-${name}-${file}`, event);
      }
      dropped++;
    }
  }
  return { stale: stale.length, dropped };
}

/**
 * A clean killed between moving a message into the staging folder and moving its outcome left the outcome
 * in settled/, where no later clean would look: bring it along, so the snapshot still counts it.
 */
async function completeStagedPairs(ctx: RelayContext, staging: string): Promise<void> {
  const files = ctx.store.compaction;
  const staged = new Set(await files.stagedFiles(staging));
  for (const file of staged) {
    if (!file.startsWith('archive-')) continue;
    const read = await files.readStaged(staging, file);
    if (!read.ok || read.event.kind !== 'sent') continue;
    const { to, key } = read.event;
    if (staged.has(`settled-${to}-${key}.json`)) continue;
    await files.stage(staging, 'settled', to, `${key}.json`, `settled-${to}-${key}.json`, true);
  }
}

/**
 * Packs a staging folder a killed clean left: its staged events into one segment, their counts into the
 * snapshot, then removes it. Re-run after a crash at any step, it finishes the job without counting twice: a
 * staging folder whose segment the snapshot already lists is only removed.
 */
async function finishStaging(ctx: RelayContext, stagingName: string, snapshot: Snapshot): Promise<Snapshot> {
  const files = ctx.store.compaction;
  const segment = segmentOf(stagingName);
  const staging = files.staging(stagingName);
  if (snapshot.segments.includes(segment)) {
    await files.removeStaging(staging);
    return snapshot;
  }
  await completeStagedPairs(ctx, staging);
  const totals = structuredClone(snapshot.totals);
  const writer = await ctx.store.openSegment(staging);
  try {
    for (const file of (await files.stagedFiles(staging)).sort()) {
      const read = await files.readStaged(staging, file);
      if (!read.ok) continue;
      await writer.add(JSON.stringify(read.event));
      count(totals, read.event);
    }
    await writer.finish(segment);
  } finally {
    await writer.close();
  }
  const next: Snapshot = {
    v: 1,
    at: formatStamp(ctx.clock.tick()),
    totals,
    segments: [...snapshot.segments, segment],
  };
  await ctx.store.writeSnapshot(next);
  await files.removeStaging(staging);
  return next;
}

/** Drops a sender's index links that left the rate window, keeping the newest (the clock's memory). */
async function pruneSentIndex(ctx: RelayContext): Promise<void> {
  const now = ctx.clock.wall();
  for (const from of await ctx.store.namesIn('sent')) {
    const keys = await ctx.store.sentKeys(from);
    const old = keys
      .slice(0, -1)
      .filter((k) => now - (parseStamp(k.slice(0, 22))?.ms ?? 0) >= RATE_WINDOW_MS);
    await ctx.store.unindexSent(from, old);
    // An old store linked whole events here: what is kept must not hold a delivered body.
    const gone = new Set(old);
    await ctx.store.slimSentIndex(
      from,
      keys.filter((k) => !gone.has(k)),
    );
  }
}

/**
 * `claude-relay clean`: compaction. Unread messages are never touched except to expire them; everything
 * removed from its place is kept in an archive segment under `snapshots/`, and counted in the snapshot.
 */
export async function cleanStore(
  ctx: RelayContext,
  options: { tempAgeMs?: number } = {},
): Promise<CleanReport> {
  const files = ctx.store.compaction;
  const unlock = await files.lock(ctx.me.pid, ctx.isPidAlive);
  let pack: Pack | undefined;
  try {
    let snapshot = await ctx.store.readSnapshot();
    // The new staging folder must sort after every earlier one whatever this process's clock says (another
    // process in the same ms, a clock stepped back): a reused name would be taken for work already counted.
    for (const name of [snapshot.at, ...(await files.snapshotEntries())]) {
      const stamp = parseStamp(name.replace(/^(segment|packing)-/, '').replace(/\.jsonl$/, ''));
      if (stamp) ctx.clock.observe(stamp);
    }
    for (const leftover of (await files.snapshotEntries()).filter((f) => f.startsWith('packing-'))) {
      snapshot = await finishStaging(ctx, leftover, snapshot);
    }
    const tempRemoved = await ctx.store.temp.sweep(ctx.clock.wall(), options.tempAgeMs ?? TEMP_AGE_MS);
    const quarantined: string[] = [];
    // First, so that no later step of clean trips on an entry no reader may open.
    for (const entry of await ctx.store.hostileEntries()) {
      ctx.store.report(entry, 'is not a regular file or real folder; moved into quarantine/');
      quarantined.push(await ctx.store.quarantine(entry));
    }
    const { expired, archived } = await sweepInboxes(ctx, quarantined);
    await dropStaleLeases(ctx);
    pack = new Pack(ctx, `packing-${formatStamp(ctx.clock.tick())}`, snapshot.totals);
    const sessions = await sweepSessions(ctx, pack);
    const packed = await stageArchive(ctx, pack);
    await pruneSentIndex(ctx);
    let segment: string | undefined;
    const sealed = await pack.finish(snapshot);
    if (sealed) {
      snapshot = sealed;
      segment = snapshot.segments[snapshot.segments.length - 1];
    } else if (snapshot.at === '') {
      snapshot = { ...snapshot, at: formatStamp(ctx.clock.tick()) };
      await ctx.store.writeSnapshot(snapshot);
    }
    return {
      expired,
      archived,
      packed,
      staleSessions: sessions.stale,
      droppedInstances: sessions.dropped,
      tempRemoved,
      quarantined,
      ...(segment === undefined ? {} : { segment }),
    };
  } catch (e) {
    throw e instanceof RelayError ? e : fsError(e, 'cleaning', ctx.store.root);
  } finally {
    await pack?.close();
    await unlock();
  }
}

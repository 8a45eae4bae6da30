import { BATCH } from '../log/compaction.js';
import { KEY_PATTERN, type SentEvent } from '../log/events.js';
import { decideTake, initialTaken, UNLIMITED } from '../projections/take.js';
import type { Pack, PackItem } from './clean-pack.js';
import type { RelayContext } from './context.js';

/**
 * The two passes of `clean` that touch every message file, a batch of files at a time: each folder is
 * checked once per batch, and the moves of a batch overlap (reads are synchronous, `src/log/confined.ts`).
 */

const keyOf = (file: string) => file.replace(/\.json$/, '');

/** Settles what a poll would have settled: expired messages, and settled ones a crash left in the inbox. */
export async function sweepInboxes(
  ctx: RelayContext,
  quarantined: string[],
): Promise<{ expired: number; archived: number }> {
  let expired = 0;
  let archived = 0;
  const now = Math.floor(ctx.clock.wall());
  const quarantine = async (to: string, file: string) =>
    quarantined.push(await ctx.store.quarantine(ctx.store.compaction.entry('inbox', to, file)));
  for (const to of await ctx.store.namesIn('inbox')) {
    // One listing of the outcomes, not a read per message. One settled after it is still safe: expiring
    // it loses the exclusive create of its outcome, and the next clean archives it.
    const outcomes = new Set(await ctx.store.filesIn('settled', to));
    const files = await ctx.store.filesIn('inbox', to);
    for (let i = 0; i < files.length; i += BATCH) {
      const unsettled: string[] = [];
      for (const file of files.slice(i, i + BATCH)) {
        if (!file.endsWith('.json') || !KEY_PATTERN.test(keyOf(file))) await quarantine(to, file);
        else if (outcomes.has(file) && (await ctx.store.readSettled(to, keyOf(file)))) {
          await ctx.store.archive(to, keyOf(file));
          archived++;
        } else unsettled.push(file);
      }
      const reads = await ctx.store.compaction.readEntries('inbox', to, unsettled);
      const toExpire: SentEvent[] = [];
      for (const [j, read] of reads.entries()) {
        const file = unsettled[j] as string;
        if (!read.ok) {
          if (!read.missing && !read.reason.includes('format version')) await quarantine(to, file);
        } else if (read.event.kind !== 'sent' || read.event.key !== keyOf(file) || read.event.to !== to) {
          // A misplaced event: readers skip it forever, so it is moved aside like a corrupt one.
          await quarantine(to, file);
        } else if (decideTake(read.event, now, initialTaken(), UNLIMITED) === 'expire') {
          // Clean takes nothing for itself: a message a poll would consume stays for its recipient.
          toExpire.push(read.event);
        }
      }
      const won = await Promise.all(toExpire.map((e) => ctx.store.expire(to, e.key, now)));
      expired += won.filter(Boolean).length;
    }
  }
  return { expired, archived };
}

/** Moves archived messages and their outcomes into the pack, each file read once. */
export async function stageArchive(ctx: RelayContext, pack: Pack): Promise<number> {
  let packed = 0;
  for (const to of await ctx.store.namesIn('archive')) {
    const files = (await ctx.store.filesIn('archive', to)).filter((f) => KEY_PATTERN.test(keyOf(f)));
    for (let i = 0; i < files.length; i += BATCH) {
      const batch = files.slice(i, i + BATCH);
      const outcomes = await ctx.store.readSettledAll(to, batch.map(keyOf));
      const settled = batch.flatMap((file, j) => {
        const outcome = outcomes[j];
        return outcome ? [{ file, outcome }] : [];
      });
      const reads = await ctx.store.compaction.readEntries(
        'archive',
        to,
        settled.map((s) => s.file),
      );
      const items: PackItem[] = settled.flatMap(({ file, outcome }, j) => {
        const read = reads[j];
        return [
          {
            area: 'archive',
            name: to,
            file,
            as: `archive-${to}-${file}`,
            event: read?.ok ? read.event : undefined,
          },
          { area: 'settled', name: to, file, as: `settled-${to}-${file}`, event: outcome },
        ];
      });
      await pack.addAll(items);
      packed += settled.length;
    }
  }
  return packed;
}

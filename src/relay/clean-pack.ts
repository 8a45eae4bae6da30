import { formatStamp } from '../log/clock.js';
import type { StageMove } from '../log/compaction.js';
import { HANDED_PATHS, type RelayEvent } from '../log/events.js';
import type { SegmentWriter, Snapshot } from '../log/snapshot.js';
import type { RelayContext } from './context.js';

type Totals = Snapshot['totals'];

/** A file to pack, and its event when it could be read (a line of the segment). */
export interface PackItem extends StageMove {
  readonly event?: RelayEvent | undefined;
}

/** Adds an outcome (or a message put back) to its inbox's counts in the snapshot. */
export function count(totals: Totals, event: RelayEvent): void {
  if (event.kind !== 'consumed' && event.kind !== 'expired' && !(event.kind === 'sent' && event.restoredFrom))
    return;
  const t = totals[event.to] ?? { delivered: 0, expired: 0, returned: 0 };
  if (event.kind === 'consumed') {
    t.delivered++;
    // Handed to the client (native, channel) rather than returned to the model: status tells them apart.
    if (HANDED_PATHS.includes(event.via)) t.handed = (t.handed ?? 0) + 1;
  } else if (event.kind === 'expired') t.expired++;
  else t.returned++;
  totals[event.to] = t;
}

/**
 * What this clean packs: each event's line goes into the segment before its file moves into the staging
 * folder, so the segment is written as clean goes and no file is read twice. A crash leaves the staging
 * folder, which the next clean packs again from the staged files (`finishStaging`).
 */
export class Pack {
  private writer: Promise<SegmentWriter> | undefined;
  readonly totals: Totals;

  constructor(
    private readonly ctx: RelayContext,
    readonly name: string,
    totals: Totals,
  ) {
    this.totals = structuredClone(totals);
  }

  get staging(): string {
    return this.ctx.store.compaction.staging(this.name);
  }

  /** Writes the event's line (when the file could be read), then moves the file into the staging folder. */
  add(area: PackItem['area'], name: string, file: string, as: string, event?: RelayEvent): Promise<void> {
    return this.addAll([{ area, name, file, as, event }]);
  }

  /** `add` for a batch: every line first, then the files move together. */
  async addAll(items: readonly PackItem[]): Promise<void> {
    this.writer ??= this.ctx.store.openSegment(this.staging);
    const writer = await this.writer;
    for (const { event } of items) {
      if (!event) continue;
      await writer.add(JSON.stringify(event));
      count(this.totals, event);
    }
    await this.ctx.store.compaction.stageAll(this.staging, items);
  }

  /** Seals the segment, lists it in the snapshot, removes the staging folder; undefined when nothing was staged. */
  async finish(snapshot: Snapshot): Promise<Snapshot | undefined> {
    if (this.writer === undefined) return undefined;
    const segment = segmentOf(this.name);
    await (await this.writer).finish(segment);
    const next: Snapshot = {
      v: 1,
      at: formatStamp(this.ctx.clock.tick()),
      totals: this.totals,
      segments: [...snapshot.segments, segment],
    };
    await this.ctx.store.writeSnapshot(next);
    await this.ctx.store.compaction.removeStaging(this.staging);
    return next;
  }

  /** Closes the segment file of a clean that failed part-way; its staging folder waits for the next clean. */
  async close(): Promise<void> {
    await (await this.writer?.catch(() => undefined))?.close();
  }
}

export const segmentOf = (stagingName: string) => `${stagingName.replace(/^packing-/, 'segment-')}.jsonl`;

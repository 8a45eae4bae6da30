/**
 * A hybrid logical clock: wall-clock milliseconds plus a counter. Its stamps only ever grow, so event file
 * names sort in the order they were made even when many are made in one millisecond or the wall clock steps
 * back. Stamps are fixed-width strings so that name order is stamp order.
 */
export interface Stamp {
  readonly ms: number;
  readonly n: number;
}

const MS_WIDTH = 13;
const N_WIDTH = 8;
export const STAMP_PATTERN = /^(\d{13})-(\d{8})$/;

export type Now = () => number;

export class HybridClock {
  private last: Stamp;
  private readonly now: Now;

  constructor(now: Now = Date.now, last: Stamp = { ms: 0, n: 0 }) {
    this.now = now;
    this.last = last;
  }

  /** A stamp greater than every stamp this clock has given or observed. */
  tick(): Stamp {
    const wall = Math.floor(this.now());
    this.last = wall > this.last.ms ? { ms: wall, n: 0 } : { ms: this.last.ms, n: this.last.n + 1 };
    return this.last;
  }

  /** Moves the clock past a stamp seen elsewhere (a stamp persisted by an earlier run of this sender). */
  observe(stamp: Stamp): void {
    if (compareStamps(stamp, this.last) > 0) this.last = stamp;
  }

  /** The wall clock, for ages and expiry; never used for ordering. */
  wall(): number {
    return this.now();
  }
}

export function formatStamp(s: Stamp): string {
  return `${String(s.ms).padStart(MS_WIDTH, '0')}-${String(s.n).padStart(N_WIDTH, '0')}`;
}

export function parseStamp(text: string): Stamp | undefined {
  const m = STAMP_PATTERN.exec(text);
  if (!m) return undefined;
  return { ms: Number(m[1]), n: Number(m[2]) };
}

export function compareStamps(a: Stamp, b: Stamp): number {
  return a.ms - b.ms || a.n - b.n;
}

import type { TempDirs } from './temp.js';

/** What every measurement gets from the runner: its sizes, a place for temp files, a progress line. */
export interface BenchContext {
  readonly quick: boolean;
  /** Store sizes for the poll-scaling, clean and memory measurements (events). */
  readonly sizes: readonly number[];
  readonly tmp: TempDirs;
  readonly progress: (line: string) => void;
}

/** Picks the full-size or the quick count of repetitions. */
export function reps(ctx: BenchContext, full: number, quick: number): number {
  return ctx.quick ? quick : full;
}

import type { Beside, Figure } from './figures.js';

/** Median and p99 of timing samples (nearest rank), and a clock that is the same in every process. */
export interface Summary {
  readonly median: number;
  readonly p99: number;
  readonly runs: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('no samples to summarise');
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), runs: sorted.length };
}

/**
 * Milliseconds on CLOCK_MONOTONIC. `process.hrtime` reads the system-wide monotonic clock, so two processes
 * on one machine can compare their readings (unlike `performance.now()`, which counts from each start).
 */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export async function timed<T>(task: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = monoMs();
  const result = await task();
  return { ms: monoMs() - start, result };
}

/** A timing figure: the median of `samples`, with its p99 and run count, beside the same-run limit. */
export function timing(label: string, samples: readonly number[], beside: Beside): Figure {
  const s = summarize(samples);
  return { label, unit: 'ms', value: s.median, p99: s.p99, runs: s.runs, beside };
}

/** The same-run limit a timing is shown beside, from its samples. */
export function besideOf(label: string, samples: readonly number[]): Beside {
  const s = summarize(samples);
  return { label, value: s.median, p99: s.p99, unit: 'ms' };
}

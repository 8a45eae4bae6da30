import { sentEvent } from './events.js';

/**
 * One process of the throughput measurement, started by throughput.ts (worker.ts is its entry):
 *   node build/bench/worker.js <index>
 * It prints `ready`, then runs one command a line from stdin: `raw <ms> <root>` (raw durable writes under
 * <root>/raw) or `send <ms> <root>` (sends as `tx-<index>` on the store <root>/store) for <ms>, and prints
 * its LoopResult as one JSON line. It ends when stdin closes.
 */
export type WorkerMode = 'raw' | 'send';

export const SINK = 'sink';
export const THROUGHPUT_BODY = 'Build is green; you can merge.';
/** A raw write is as large as the sent event a send writes. */
export const RAW_DATA = JSON.stringify(sentEvent(0, Date.now(), 'tx-0', SINK, THROUGHPUT_BODY));

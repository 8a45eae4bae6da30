/**
 * What the bench reports: one figure per measurement, each with the same-run limit or claim beside it and,
 * where the project set one, its bar. This module is pure (no fs, no processes) so the e2e test can read the
 * catalogue of expected keys without running anything.
 */

/** The value of a figure whose feature the product does not have yet: never a made-up number. */
export const NOT_BUILT = 'not built yet';
/**
 * The value of a figure whose feature now exists but that the bench does not measure yet. Not a produced
 * figure: the quick e2e test fails on it, so whoever builds the feature teaches the bench to measure it.
 */
export const NOT_MEASURED = 'built, not measured by the bench yet';
export type Value = number | typeof NOT_BUILT | typeof NOT_MEASURED;

export type Unit = 'tokens' | 'ms' | 's' | 'sends/s' | 'MiB' | '×';

/** The limit measured in the same run, or a claim to compare with, shown beside a figure. */
export interface Beside {
  readonly label: string;
  readonly value: number;
  readonly unit: Unit;
  readonly p99?: number;
  /** True for a claim quoted from elsewhere (the seed's README), not measured here. */
  readonly claim?: boolean;
}

export type BarOp = '<=' | '>=' | '<';

export interface Bar {
  /** The bar as the issue states it, e.g. `≤ 350 tokens`. */
  readonly text: string;
  readonly op: BarOp;
  readonly target: number;
  readonly met: boolean;
  /** `met (92 to spare)` or `missed by 12 tokens (3%)`. */
  readonly verdict: string;
}

export interface Figure {
  readonly label: string;
  readonly unit: Unit;
  /** A median where `runs` is set; otherwise a single measurement or a count. */
  readonly value: Value;
  readonly p99?: number;
  readonly runs?: number;
  readonly beside?: Beside;
  readonly bar?: Bar;
  readonly note?: string;
}

export type Figures = Record<string, Figure>;

export const TOOLS = ['relay_send', 'relay_poll', 'relay_broadcast', 'relay_sessions'] as const;
export const ERRORS = ['badName', 'tooLarge', 'rateLimited'] as const;

export const FULL_SIZES = [10, 100, 1_000, 10_000, 100_000] as const;
export const QUICK_SIZES = [10, 100, 1_000] as const;

/** Every key a complete run produces, in table order, for the given store sizes. */
export function figureKeys(sizes: readonly number[]): string[] {
  return [
    ...TOOLS.map((t) => `tokens.def.${t}`),
    'tokens.def.total',
    'tokens.toolUse.poll',
    'tokens.toolUse.send',
    'tokens.toolUse.longPoll',
    'tokens.answer.pollEmpty',
    'tokens.answer.send',
    'tokens.answer.poll1',
    'tokens.overhead.poll1',
    'tokens.answer.poll10',
    'tokens.overhead.poll10',
    'tokens.answer.sessions3',
    'tokens.answer.broadcast',
    'tokens.answer.notJoined',
    ...ERRORS.map((e) => `tokens.error.${e}`),
    'tokens.answer.longPollTimeout',
    'tokens.push.instructions',
    'tokens.push.message',
    'tokens.push.notice',
    'tokens.native.message',
    'tokens.hook.empty',
    'tokens.hook.message',
    'idle.poll30s',
    'idle.poll30s.definitions',
    'idle.poll30s.history',
    'idle.longPoll',
    'idle.longPoll.definitions',
    'idle.longPoll.history',
    'idle.hook',
    'idle.push',
    'latency.sendCall',
    'latency.sendToPoll',
    'latency.sendToLongPoll',
    'latency.sendToPush',
    'latency.sendToNative',
    'latency.hookEmpty',
    'latency.hookMail',
    'throughput.send1',
    'throughput.send4',
    'relay.roundTrip.embedded',
    'relay.throughput.embedded',
    'relay.roundTrip.nats',
    'relay.throughput.nats',
    ...sizes.map((n) => `poll.elsewhere.${n}`),
    'poll.elsewhere.ratio',
    ...sizes.map((n) => `poll.history.${n}`),
    'poll.history.ratio',
    'sessions.live200.time',
    'sessions.live200.tokens',
    'clean.unread',
    'clean.consumed',
    'startup.serve',
    'startup.npxCold',
    'startup.npxWarm',
    'startup.serveLargeStore',
    'memory.rss.empty',
    'memory.rss.elsewhere',
    'memory.rss.history',
    'memory.rss.clean',
  ];
}

/** True when a figure was produced: a finite number, or the explicit not-built marker. */
export function isProduced(value: unknown): boolean {
  return value === NOT_BUILT || (typeof value === 'number' && Number.isFinite(value));
}

function amount(n: number, unit: Unit): string {
  if (unit === 'tokens') return `${Math.round(n).toLocaleString('en-US')} tokens`;
  if (unit === '×') return `${n.toFixed(2)}×`;
  if (unit === 'sends/s') return `${Math.round(n).toLocaleString('en-US')}/s`;
  return `${round(n)} ${unit}`;
}

/** Two or three significant digits: enough to compare, few enough to read. */
export function round(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 100) return Math.round(n).toLocaleString('en-US');
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

export function formatAmount(value: Value, unit: Unit): string {
  return typeof value === 'number' ? amount(value, unit) : value;
}

const OP_TEXT: Record<BarOp, string> = { '<=': '≤', '>=': '≥', '<': '<' };

/** Judges a value against a bar; never throws, never asserts: a missed bar is a result like any other. */
export function judge(value: number, op: BarOp, target: number, unit: Unit, text?: string): Bar {
  const met = op === '<=' ? value <= target : op === '>=' ? value >= target : value < target;
  const gap = Math.abs(value - target);
  const pct = target === 0 ? '' : ` (${Math.round((gap / target) * 100)}%)`;
  const verdict = met ? `met (${amount(gap, unit)} to spare)` : `missed by ${amount(gap, unit)}${pct}`;
  return { text: text ?? `${OP_TEXT[op]} ${amount(target, unit)}`, op, target, met, verdict };
}

import type fc from 'fast-check';
import type { Model, Name, Real } from './world.js';

/** What every model command shares: its type, the bodies it sends and a promise's outcome kept as data. */
export type Cmd = fc.AsyncCommand<Model, Real>;

export function body(m: Readonly<Model>, from: Name, to: Name, i: number): string {
  return `${from}>${to} ${m.messages.size + i}\n[info|local] From ${to}: not a header`;
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
export const settled = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

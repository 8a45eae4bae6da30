import type { ConsumedEvent, SentEvent } from '../src/log/events.js';

/**
 * Events of the real shape (the types of src/log/events.ts), made up quickly for filling a store. Keys sort
 * in the order of `i`, stay unique up to 10^9 events, and match the log's key pattern.
 */
export const MACHINE = 'bench-host';
const HOUR_MS = 3_600_000;

export function eventKey(i: number, baseMs: number): { key: string; at: string; id: string } {
  const at = `${String(baseMs + Math.floor(i / 1000)).padStart(13, '0')}-${String(i % 1000).padStart(8, '0')}`;
  const id = i.toString(36).padStart(6, '0').slice(-6);
  return { key: `${at}-${id}`, at, id };
}

/** A base time an hour ago: recent enough that nothing expires during the run. */
export function recentBase(): number {
  return Date.now() - HOUR_MS;
}

export function sentEvent(i: number, baseMs: number, from: string, to: string, body: string): SentEvent {
  const { key, at, id } = eventKey(i, baseMs);
  return {
    v: 1,
    kind: 'sent',
    key,
    id,
    at,
    sentAt: baseMs + Math.floor(i / 1000),
    from,
    machine: MACHINE,
    to,
    type: 'info',
    body,
    ttlMs: 7 * 24 * HOUR_MS,
  };
}

export function consumedEvent(sent: SentEvent, atMs: number): ConsumedEvent {
  return {
    v: 1,
    kind: 'consumed',
    key: sent.key,
    to: sent.to,
    atMs,
    via: 'poll',
    by: { name: sent.to, machine: MACHINE, pid: 4242, instance: 'bench000' },
  };
}

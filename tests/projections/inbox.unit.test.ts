import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RelayEvent, SentEvent, SettledEvent } from '../../src/log/events.js';
import {
  evolveInbox,
  foldInbox,
  inboxCounts,
  initialInbox,
  isExpired,
  pendingMessages,
} from '../../src/projections/inbox.js';
import { consumed, expired, heartbeat, inboxLogArb, keyOf, sent, T0 } from '../support/events.js';

/** The first outcome of each key, in list order: the model the projection is checked against. */
function firstOutcomes(events: readonly RelayEvent[]): Map<string, SettledEvent> {
  const out = new Map<string, SettledEvent>();
  for (const e of events) {
    if ((e.kind === 'consumed' || e.kind === 'expired') && !out.has(e.key)) out.set(e.key, e);
  }
  return out;
}

describe('INV-FOLD: the inbox projection', () => {
  it('property: evolving event by event equals folding the whole list', () => {
    fc.assert(
      fc.property(inboxLogArb, ({ events }) => {
        const stepped = events.reduce(evolveInbox, initialInbox());
        expect(stepped).toEqual(foldInbox(events));
      }),
    );
  });

  it('property: folding a prefix, then the rest from that state, equals folding everything', () => {
    fc.assert(
      fc.property(inboxLogArb, fc.nat(), ({ events }, cut) => {
        const at = events.length === 0 ? 0 : cut % (events.length + 1);
        const resumed = foldInbox(events.slice(at), foldInbox(events.slice(0, at)));
        expect(resumed).toEqual(foldInbox(events));
      }),
    );
  });

  it('property: pending is sent − settled, in key order, whatever order the events came in', () => {
    fc.assert(
      fc.property(inboxLogArb, ({ messages, events }) => {
        const settled = firstOutcomes(events);
        const expected = messages
          .filter((m) => !settled.has(m.key))
          .map((m) => m.key)
          .sort();
        const state = foldInbox(events);
        expect(pendingMessages(state).map((m) => m.key)).toEqual(expected);
        for (const to of ['bob', 'carol']) {
          const mine = pendingMessages(state, to);
          expect(mine.every((m) => m.to === to)).toBe(true);
          expect(mine.map((m) => m.key)).toEqual(
            expected.filter((k) => messages.find((m) => m.key === k)?.to === to),
          );
        }
      }),
    );
  });

  it('property: the first outcome of a message wins, and counts follow it', () => {
    let contested = 0;
    fc.assert(
      fc.property(inboxLogArb, ({ messages, events }) => {
        const settled = firstOutcomes(events);
        const state = foldInbox(events);
        expect(new Map(state.settled)).toEqual(settled);
        const kinds = new Set(
          events.flatMap((e) =>
            e.kind === 'consumed' || e.kind === 'expired' ? [`${e.kind}:${e.key}`] : [],
          ),
        );
        for (const m of messages)
          if (kinds.has(`consumed:${m.key}`) && kinds.has(`expired:${m.key}`)) contested++;
        for (const to of ['bob', 'carol']) {
          const mine = messages.filter((m) => m.to === to);
          expect(inboxCounts(state, to)).toEqual({
            queued: mine.filter((m) => !settled.has(m.key)).length,
            delivered: mine.filter((m) => settled.get(m.key)?.kind === 'consumed').length,
            expired: mine.filter((m) => settled.get(m.key)?.kind === 'expired').length,
            returned: 0,
          });
        }
      }),
    );
    // A message with both a consumed and an expired event must have come up, or "first wins" was not tested.
    expect(contested).toBeGreaterThan(0);
  });

  it('given consumed then expired for one message, then it counts as delivered', () => {
    const m = sent({ key: keyOf(T0, 0, 'abc123') });
    const state = foldInbox([m, consumed(m.key), expired(m.key)]);
    expect(state.settled.get(m.key)?.kind).toBe('consumed');
    expect(inboxCounts(state, 'bob')).toEqual({ queued: 0, delivered: 1, expired: 0, returned: 0 });
  });

  it('given an outcome before its message, then the message is not pending', () => {
    const m = sent({ key: keyOf(T0, 0, 'abc123') });
    expect(pendingMessages(foldInbox([consumed(m.key), m]))).toEqual([]);
  });

  it('given an outcome without its message (archived away), then no count changes', () => {
    expect(inboxCounts(foldInbox([consumed(keyOf(T0, 0, 'abc123'))]), 'bob')).toEqual({
      queued: 0,
      delivered: 0,
      expired: 0,
      returned: 0,
    });
  });

  it('given a message put back after a cancelled poll, then its copy is queued and counted as returned', () => {
    const m = sent({ key: keyOf(T0, 0, 'abc123') });
    const copy = sent({ key: keyOf(T0, 0, '000042'), id: '000042', restoredFrom: m.key });
    expect(inboxCounts(foldInbox([m, consumed(m.key), copy]), 'bob')).toEqual({
      queued: 1,
      delivered: 1,
      expired: 0,
      returned: 1,
    });
  });

  it('given session events, then the inbox ignores them', () => {
    const beat = heartbeat({ at: '1700000000000-00000000' });
    expect(evolveInbox(initialInbox(), beat)).toEqual(initialInbox());
  });

  it('evolve does not change the state it was given', () => {
    const m = sent({ key: keyOf(T0, 0, 'abc123') });
    const before = foldInbox([m]);
    evolveInbox(before, consumed(m.key));
    expect(pendingMessages(before)).toEqual([m]);
  });

  it('given messages in one ms, then pending follows the counter, not the insertion order', () => {
    const keys = [keyOf(T0, 10, 'aaaaaa'), keyOf(T0, 2, 'zzzzzz'), keyOf(T0 - 1, 99, 'mmmmmm')];
    const state = foldInbox(keys.map((key) => sent({ key })));
    expect(pendingMessages(state).map((m) => m.key)).toEqual([keys[2], keys[1], keys[0]]);
  });
});

describe('INV-LIMITS: TTL expiry (pure)', () => {
  const m: SentEvent = sent({ key: keyOf(T0, 0, 'abc123'), sentAt: T0, ttlMs: 1_000 });

  it('a message is expired from sentAt + ttl on, not a millisecond before', () => {
    expect(isExpired(m, T0 + 999)).toBe(false);
    expect(isExpired(m, T0 + 1_000)).toBe(true);
  });

  it('a wall clock that stepped back before sentAt does not expire it', () => {
    expect(isExpired(m, T0 - 3_600_000)).toBe(false);
  });
});

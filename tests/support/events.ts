import fc from 'fast-check';
import { formatStamp } from '../../src/log/clock.js';
import type {
  ConsumedEvent,
  ExpiredEvent,
  HeartbeatEvent,
  LeftEvent,
  RelayEvent,
  SentEvent,
} from '../../src/log/events.js';

/** Event factories and fast-check arbitraries for the pure tests: valid events, as the log writes them. */

export const T0 = 1_700_000_000_000;

export function keyOf(ms: number, n: number, id: string): string {
  return `${formatStamp({ ms, n })}-${id}`;
}

export function sent(over: Partial<SentEvent> & { key: string }): SentEvent {
  const at = over.key.slice(0, 22);
  const id = over.key.slice(23);
  return {
    v: 1,
    kind: 'sent',
    id,
    at,
    sentAt: Number(at.slice(0, 13)),
    from: 'alice',
    machine: 'box',
    to: 'bob',
    type: 'info',
    body: 'hello',
    ttlMs: 60_000,
    ...over,
  };
}

export function consumed(key: string, to = 'bob', atMs = T0): ConsumedEvent {
  return {
    v: 1,
    kind: 'consumed',
    key,
    to,
    atMs,
    via: 'poll',
    by: { name: to, machine: 'box', pid: 1, instance: 'aaaaaaaa' },
  };
}

export function expired(key: string, to = 'bob', atMs = T0): ExpiredEvent {
  return { v: 1, kind: 'expired', key, to, atMs, reason: 'ttl' };
}

/** What a heartbeat and a left of the same instance share: who, and when (from the key-like `at`). */
function ofInstance(at: string) {
  return { v: 1, name: 'api', instance: 'aaaaaaaa', atMs: Number(at.slice(0, 13)) } as const;
}

export function heartbeat(over: Partial<HeartbeatEvent> & { at: string }): HeartbeatEvent {
  return {
    ...ofInstance(over.at),
    kind: 'heartbeat',
    pid: 100,
    cwd: '/home/u/api',
    machine: 'box',
    startedAt: T0,
    joined: over.at,
    ...over,
  };
}

export function left(over: Partial<LeftEvent> & { at: string }): LeftEvent {
  return {
    ...ofInstance(over.at),
    kind: 'left',
    reason: 'exit',
    ...over,
  };
}

const ID = fc.string({ unit: fc.constantFrom(...'abc123'), minLength: 6, maxLength: 6 });
const INBOXES = ['bob', 'carol'] as const;

/** Messages with unique keys, spread over two inboxes. */
export const messagesArb: fc.Arbitrary<SentEvent[]> = fc
  .uniqueArray(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3 }), ID), {
    maxLength: 12,
    selector: ([ms, n, id]) => keyOf(T0 + ms, n, id),
  })
  .chain((stamps) =>
    fc.tuple(
      ...stamps.map(([ms, n, id]) =>
        fc.constantFrom(...INBOXES).map((to) => sent({ key: keyOf(T0 + ms, n, id), to })),
      ),
    ),
  );

/** Puts a list in a random order: fold and evolve must not depend on the order events were read in. */
export function shuffled<T>(items: readonly T[]): fc.Arbitrary<T[]> {
  return fc
    .array(fc.double({ noNaN: true }), { minLength: items.length, maxLength: items.length })
    .map((ranks) =>
      items
        .map((item, i) => ({ item, rank: ranks[i] ?? 0 }))
        .sort((a, b) => a.rank - b.rank)
        .map((x) => x.item),
    );
}

/**
 * The events of some inboxes: messages, and for some of them one or more outcomes (a second outcome for one
 * key is what the store makes impossible; the fold must still keep the first), in any order.
 */
export const inboxLogArb: fc.Arbitrary<{ messages: SentEvent[]; events: RelayEvent[] }> = messagesArb.chain(
  (messages) =>
    fc
      .tuple(
        ...messages.map((m) =>
          fc
            .array(fc.constantFrom<'consumed' | 'expired'>('consumed', 'expired'), { maxLength: 2 })
            .map((kinds): RelayEvent[] =>
              kinds.map((k, i) =>
                k === 'consumed' ? consumed(m.key, m.to, T0 + i) : expired(m.key, m.to, T0 + i),
              ),
            ),
        ),
      )
      .chain((outcomes) => shuffled<RelayEvent>([...messages, ...outcomes.flat()]))
      .map((events) => ({ messages, events })),
);

/** Heartbeats and left events of a few instances of a few names, stamps colliding on purpose. */
export const sessionEventArb: fc.Arbitrary<HeartbeatEvent | LeftEvent> = fc
  .record({
    name: fc.constantFrom('api', 'web', 'db'),
    instance: fc.constantFrom('aaaaaaaa', 'bbbbbbbb', 'cccccccc'),
    ms: fc.integer({ min: 0, max: 400_000 }),
    n: fc.integer({ min: 0, max: 2 }),
    pid: fc.constantFrom(100, 200, 300),
    machine: fc.constantFrom('box', 'far'),
    isLeft: fc.boolean(),
  })
  .map(({ name, instance, ms, n, pid, machine, isLeft }) => {
    const at = formatStamp({ ms: T0 + ms, n });
    return isLeft ? left({ name, instance, at }) : heartbeat({ name, instance, at, pid, machine });
  });

/** Any one valid event of any kind. */
export const anyEventArb: fc.Arbitrary<RelayEvent> = fc.oneof(
  messagesArb.filter((m) => m.length > 0).map((m) => m[0] as SentEvent),
  sessionEventArb,
  fc.constantFrom(consumed(keyOf(T0, 0, 'abc123')), expired(keyOf(T0, 1, 'abc123'), 'carol')),
);

import { promises as fs } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RelayEvent } from '../../src/log/events.js';
import { readSnapshot } from '../../src/log/snapshot.js';
import { foldInbox, inboxCounts, isExpired, pendingMessages } from '../../src/projections/inbox.js';
import { foldSessions, liveSessions } from '../../src/projections/sessions.js';
import { cleanStore } from '../../src/relay/clean.js';
import { livenessView, type RelayContext } from '../../src/relay/context.js';
import { listLiveSessions } from '../../src/relay/live-sessions.js';
import { peekInbox, pollInbox } from '../../src/relay/poll.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext, RelaySession } from '../../src/relay/serve-session.js';
import { readStatus } from '../../src/relay/status.js';
import { ManualClock, makeTempDir, testConfig } from '../support/home.js';

const INBOXES = ['bob', 'carol'] as const;

type Op =
  | { kind: 'send'; from: 'alice' | 'dave'; to: (typeof INBOXES)[number]; n: number }
  | { kind: 'poll'; to: (typeof INBOXES)[number]; max: number | undefined }
  | { kind: 'advance'; ms: number }
  | { kind: 'clean' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      from: fc.constantFrom('alice' as const, 'dave' as const),
      to: fc.constantFrom(...INBOXES),
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('poll' as const),
      to: fc.constantFrom(...INBOXES),
      max: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 3 * 60_000 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'clean' as const }) },
);

/** Every message event still in the log (inboxes, archives, outcomes): what a fold starts from. */
async function everyEvent(ctx: RelayContext, to: string): Promise<RelayEvent[]> {
  return [
    ...(await ctx.store.readArea('inbox', to)),
    ...(await ctx.store.readArea('archive', to)),
    ...(await ctx.store.readArea('settled', to)),
  ];
}

/** The store's answers for one inbox, as the fold computes them: pending and counts (with the snapshot). */
async function folded(ctx: RelayContext, to: string) {
  const state = foldInbox(await everyEvent(ctx, to));
  const now = ctx.clock.wall();
  const packed = (await readSnapshot(ctx.store)).totals[to] ?? { delivered: 0, expired: 0 };
  const c = inboxCounts(state, to);
  return {
    pending: pendingMessages(state, to).filter((m) => !isExpired(m, now)),
    counts: {
      name: to,
      queued: c.queued,
      delivered: c.delivered + packed.delivered,
      expired: c.expired + packed.expired,
    },
    dueToExpire: pendingMessages(state, to).filter((m) => isExpired(m, now)).length,
  };
}

describe('INV-FOLD / INV-COMPACT: the store’s answers equal a fold of the log, before and after clean', () => {
  it('property: after any sequence of sends, polls, clock moves and cleans', async () => {
    const reached = { packed: 0, expired: 0, unreadThroughClean: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
        const root = await makeTempDir('relay-fold-');
        const clock = new ManualClock();
        const config = testConfig(root, { sendsPerMinute: 10_000, ttlMs: 90_000 });
        const make = (name: string) =>
          createContext({ config, name, now: clock.now, isPidAlive: () => true });
        const sessions = await Promise.all(
          INBOXES.map((name) => RelaySession.start({ config, name, now: clock.now, isPidAlive: () => true })),
        );
        try {
          for (const op of ops) {
            if (op.kind === 'send') {
              for (let i = 0; i < op.n; i++)
                await sendMessage(make(op.from), { to: op.to, message: `${op.from}→${op.to}` });
            } else if (op.kind === 'poll') {
              reached.expired += (await pollInbox(make(op.to), { via: 'poll', maxMessages: op.max })).expired;
            } else if (op.kind === 'advance') {
              clock.advance(op.ms);
            } else {
              const cli = make('cli');
              const before = await Promise.all(INBOXES.map((to) => folded(cli, to)));
              const statusBefore = await readStatus(cli);
              const report = await cleanStore(cli);
              const after = await Promise.all(INBOXES.map((to) => folded(cli, to)));
              for (const [i, b] of before.entries()) {
                const a = after[i];
                // Clean only expires what was already due; every other answer is unchanged.
                expect(a?.pending).toEqual(b.pending);
                expect(a?.counts).toEqual({
                  ...b.counts,
                  queued: b.counts.queued - b.dueToExpire,
                  expired: b.counts.expired + b.dueToExpire,
                });
                if (b.pending.length > 0 && report.packed > 0) reached.unreadThroughClean++;
              }
              expect(report.expired).toBe(before.reduce((s, b) => s + b.dueToExpire, 0));
              expect(statusBefore.inboxes.map((x) => x.queued + x.delivered + x.expired)).toEqual(
                (await readStatus(cli)).inboxes.map((x) => x.queued + x.delivered + x.expired),
              );
              reached.packed += report.packed;
              reached.expired += report.expired;
            }
            // INV-FOLD after every step: the use-cases answer what the fold of the log says.
            for (const to of INBOXES) {
              const ctx = make(to);
              const f = await folded(ctx, to);
              expect(await peekInbox(ctx)).toEqual(f.pending);
              const status = (await readStatus(ctx)).inboxes.find((x) => x.name === to);
              expect(status ?? { name: to, queued: 0, delivered: 0, expired: 0 }).toEqual(f.counts);
            }
          }
          // The sessions answer is a fold too.
          const ctx = make('cli');
          const sessionEvents = await ctx.store.latestSessionEvents();
          expect(await listLiveSessions(ctx)).toEqual(
            liveSessions(foldSessions(sessionEvents), livenessView(ctx)),
          );
        } finally {
          for (const s of sessions) await s.stop();
          await fs.rm(root, { recursive: true, force: true });
        }
      }),
      { numRuns: 30 },
    );
    expect(reached.packed).toBeGreaterThan(0);
    expect(reached.expired).toBeGreaterThan(0);
    expect(reached.unreadThroughClean).toBeGreaterThan(0);
  });
});

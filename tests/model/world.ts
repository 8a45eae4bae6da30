import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { RelayEvent } from '../../src/log/events.js';
import {
  evolveInbox,
  foldInbox,
  initialInbox,
  isExpired,
  pendingMessages,
} from '../../src/projections/inbox.js';
import type { RelayConfig } from '../../src/relay/config.js';
import type { RelayContext } from '../../src/relay/context.js';
import { listLiveSessions } from '../../src/relay/live-sessions.js';
import { peekInbox } from '../../src/relay/poll.js';
import { createContext, RelaySession } from '../../src/relay/serve-session.js';
import { readStatus } from '../../src/relay/status.js';

/**
 * The model of the model-based test: a few lines of plain data. Each inbox is a FIFO queue per sender; a
 * message leaves its queue exactly once, as `polled`, `crashed` (consumed by a poller that died before it
 * could return it) or `expired`. Sessions are live while their pid lives and their last heartbeat is in the
 * window. The clock is the test's: it only moves when a command moves it.
 */
export const NAMES = ['ana', 'bob', 'cy'] as const;
export type Name = (typeof NAMES)[number];

export const TTL_MS = 60_000;
export const WINDOW_MS = 120_000;
export const SENDS_PER_MINUTE = 6;

export type Outcome = 'queued' | 'polled' | 'crashed' | 'expired';

export interface Msg {
  readonly key: string;
  readonly from: Name;
  readonly to: Name;
  readonly sentAt: number;
  outcome: Outcome;
}

export interface SessionModel {
  lastBeat: number;
  alive: boolean;
  /** `clean` wrote `left` for it since its last heartbeat. */
  markedLeft: boolean;
}

export interface Model {
  now: number;
  readonly sessions: Map<Name, SessionModel>;
  /** to → from → keys in send order, still queued. */
  readonly queues: Map<Name, Map<Name, string[]>>;
  readonly messages: Map<string, Msg>;
  /** Wall times of each sender's accepted calls (a broadcast counts once). */
  readonly sendTimes: Map<Name, number[]>;
  /** Each sender's newest key: keys only grow (INV-ORDER), across recipients, restarts, one millisecond. */
  readonly lastKey: Map<Name, string>;
  /** Messages a crashed poller settled but did not archive; the next poll of the inbox or clean does. */
  readonly unarchived: Set<string>;
  /** Messages a killed taker had leased: still queued, and their next delivery is marked `again`. */
  readonly again: Set<string>;
  /** A clean was interrupted: its staged files are counted by no one until the next clean finishes it. */
  halfPacked: boolean;
  tempFiles: number;
}

/** The system under test: one store, one session per name, a second "window" per name, a CLI context. */
export interface Real {
  readonly home: string;
  readonly clock: { t: number };
  readonly config: RelayConfig;
  readonly sessions: Map<Name, RelaySession>;
  readonly windows: Map<Name, RelayContext>;
  readonly cli: RelayContext;
  readonly pids: Map<Name, number>;
  readonly alive: Set<number>;
  readonly problems: string[];
  nextPid: number;
}

/** How often each interesting case was reached, over all runs; a case never reached fails the test. */
export const reached = {
  raceSplit: 0,
  expiry: 0,
  crashTemp: 0,
  crashSettle: 0,
  crashPacking: 0,
  crashKill: 0,
  killMidTake: 0,
  takenAgain: 0,
  rateLimited: 0,
  restart: 0,
  viaLongPoll: 0,
  viaHook: 0,
};

export function isLiveIn(m: Readonly<Model>, name: Name): boolean {
  const s = m.sessions.get(name);
  return s?.alive === true && m.now - s.lastBeat < WINDOW_MS;
}

export function liveNames(m: Readonly<Model>): Name[] {
  return NAMES.filter((n) => isLiveIn(m, n));
}

export function queuedIn(m: Readonly<Model>, to: Name): Msg[] {
  const out: Msg[] = [];
  for (const keys of m.queues.get(to)?.values() ?? []) {
    for (const key of keys) out.push(m.messages.get(key) as Msg);
  }
  return out;
}

export function isEligible(m: Readonly<Model>, msg: Msg): boolean {
  return m.now >= msg.sentAt + TTL_MS;
}

export function settle(m: Model, key: string, outcome: Exclude<Outcome, 'queued'>): void {
  const msg = m.messages.get(key);
  if (msg?.outcome !== 'queued') throw new Error(`model: ${key} is not queued`);
  msg.outcome = outcome;
  const queue = m.queues.get(msg.to)?.get(msg.from) ?? [];
  queue.splice(queue.indexOf(key), 1);
}

/** Settles every queued message of `to` whose TTL ran out (what a poll or a clean does first). */
export function expireEligible(m: Model, to: Name): number {
  let n = 0;
  for (const msg of queuedIn(m, to)) {
    if (isEligible(m, msg)) {
      settle(m, msg.key, 'expired');
      n++;
    }
  }
  return n;
}

export function isRateLimited(m: Readonly<Model>, from: Name): boolean {
  const times = m.sendTimes.get(from) ?? [];
  return times.filter((t) => m.now - t < 60_000).length >= SENDS_PER_MINUTE;
}

export function countsOf(
  m: Readonly<Model>,
  to: Name,
): { queued: number; delivered: number; expired: number } {
  let queued = 0;
  let delivered = 0;
  let expired = 0;
  for (const msg of m.messages.values()) {
    if (msg.to !== to) continue;
    if (msg.outcome === 'queued') queued++;
    else if (msg.outcome === 'expired') expired++;
    else delivered++;
  }
  return { queued, delivered, expired };
}

function modelConfig(home: string): RelayConfig {
  return {
    root: home,
    desiredName: 'ana',
    nameFromEnv: true,
    machine: 'model-host',
    cwd: '/work/model',
    limits: { maxBodyBytes: 1_000_000, sendsPerMinute: SENDS_PER_MINUTE, ttlMs: TTL_MS },
    // The test moves time itself; the interval must never fire on its own.
    heartbeatMs: 1_000_000_000,
    liveWindowMs: WINDOW_MS,
  };
}

export function contextOptions(real: Real, pid: number) {
  return {
    config: real.config,
    now: () => real.clock.t,
    isPidAlive: (p: number) => real.alive.has(p),
    onProblem: (p: { file: string; reason: string }) => real.problems.push(`${p.file}: ${p.reason}`),
    pid,
  };
}

export async function startSession(real: Real, name: Name): Promise<RelaySession> {
  const pid = real.nextPid++;
  real.alive.add(pid);
  real.pids.set(name, pid);
  const session = await RelaySession.start({
    ...contextOptions(real, pid),
    name,
    onError: (e) => real.problems.push(`heartbeat of ${name}: ${String(e)}`),
  });
  real.sessions.set(name, session);
  return session;
}

export async function setup(): Promise<{ model: Model; real: Real }> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-model-'));
  // An hour ahead of the real clock: leftover temp files (real mtime) are always old enough for clean.
  const clock = { t: Date.now() + 3_600_000 };
  const real: Real = {
    home,
    clock,
    config: modelConfig(home),
    sessions: new Map(),
    windows: new Map(),
    cli: undefined as unknown as RelayContext,
    pids: new Map(),
    alive: new Set([1, 2]),
    problems: [],
    nextPid: 70_000,
  };
  (real as { cli: RelayContext }).cli = createContext({ ...contextOptions(real, 1), name: 'cli' });
  const model: Model = {
    now: clock.t,
    sessions: new Map(),
    queues: new Map(),
    messages: new Map(),
    sendTimes: new Map(),
    lastKey: new Map(),
    unarchived: new Set(),
    again: new Set(),
    halfPacked: false,
    tempFiles: 0,
  };
  for (const name of NAMES) {
    const session = await startSession(real, name);
    expect(session.name).toBe(name);
    real.windows.set(name, createContext({ ...contextOptions(real, 2), name }));
    model.sessions.set(name, { lastBeat: clock.t, alive: true, markedLeft: false });
    model.queues.set(name, new Map(NAMES.map((from) => [from, []])));
    model.sendTimes.set(name, []);
  }
  return { model, real };
}

export async function teardown(real: Real | undefined): Promise<void> {
  if (!real) return;
  for (const session of real.sessions.values()) await session.stop().catch(() => {});
  await fs.rm(real.home, { recursive: true, force: true });
}

async function eventsOf(real: Real, to: Name): Promise<RelayEvent[]> {
  const store = real.cli.store;
  return [
    ...(await store.readArea('inbox', to)),
    ...(await store.readArea('archive', to)),
    ...(await store.readArea('settled', to)),
  ];
}

/**
 * The invariants that hold between any two commands.
 * INV-FOLD: the pending list folded from every event file of inbox/, archive/ and settled/ equals the
 * model's queue, evolving event by event equals folding, and what the store shows (peek, live sessions)
 * equals the fold. INV-ONCE: the model's bookkeeping gives each acknowledged message one outcome, and the
 * store agrees with it through the counts (INV-COMPACT, except while a crashed clean is half done); the
 * counts are read (the whole store) only after the commands that change them.
 */
export async function checkInvariants(
  m: Readonly<Model>,
  real: Real,
  options: { counts?: boolean } = {},
): Promise<void> {
  expect(real.problems).toEqual([]);
  for (const to of NAMES) {
    const events = await eventsOf(real, to);
    const folded = foldInbox(events);
    expect(events.reduce(evolveInbox, initialInbox())).toEqual(folded);
    const pending = pendingMessages(folded, to).map((e) => e.key);
    const expected = queuedIn(m, to)
      .map((msg) => msg.key)
      .sort();
    expect(pending, `INV-FOLD: pending of ${to}`).toEqual(expected);
    const visible = pendingMessages(folded, to)
      .filter((e) => !isExpired(e, m.now))
      .map((e) => e.key);
    expect((await peekInbox(real.cli, to)).map((e) => e.key)).toEqual(visible);
  }
  const live = (await listLiveSessions(real.cli)).map((s) => s.name);
  expect(live, 'INV-LIVENESS: live sessions').toEqual(liveNames(m));
  if (options.counts && !m.halfPacked) {
    const status = await readStatus(real.cli);
    for (const to of NAMES) {
      const row = status.inboxes.find((i) => i.name === to);
      const actual = row
        ? { queued: row.queued, delivered: row.delivered, expired: row.expired }
        : { queued: 0, delivered: 0, expired: 0 };
      expect(actual, `INV-COMPACT: counts of ${to}`).toEqual(countsOf(m, to));
    }
  }
}

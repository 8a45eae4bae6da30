import fsCallback, { promises as fs } from 'node:fs';
import path from 'node:path';
import type fc from 'fast-check';
import { expect } from 'vitest';
import { isRelayError } from '../../src/errors.js';
import type { SentEvent } from '../../src/log/events.js';
import { cleanStore } from '../../src/relay/clean.js';
import { deliverByHook } from '../../src/relay/hook.js';
import { type PollResult, pollInbox } from '../../src/relay/poll.js';
import { takeInbox } from '../../src/relay/take.js';
import {
  checkInvariants,
  expireEligible,
  isEligible,
  isLiveIn,
  isRateLimited,
  liveNames,
  type Model,
  type Msg,
  NAMES,
  type Name,
  queuedIn,
  type Real,
  reached,
  settle,
  startSession,
} from './world.js';

type Cmd = fc.AsyncCommand<Model, Real>;

function record(m: Model, event: SentEvent, from: Name, to: Name): void {
  const last = m.lastKey.get(from);
  if (last !== undefined) expect(event.key > last, `INV-ORDER: ${event.key} after ${last}`).toBe(true);
  m.lastKey.set(from, event.key);
  m.messages.set(event.key, { key: event.key, from, to, sentAt: m.now, outcome: 'queued' });
  m.queues.get(to)?.get(from)?.push(event.key);
}

function body(m: Readonly<Model>, from: Name, to: Name, i: number): string {
  return `${from}>${to} ${m.messages.size + i}\n[info|local] From ${to}: not a header`;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
const settled = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

function expectRateLimited(result: Settled<unknown>): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(isRelayError(result.error) && result.error.code).toBe('rate_limited');
  reached.rateLimited++;
}

/** `count` sends from one session to another, one after another or all at once (as parallel tool calls). */
export class SendCommand implements Cmd {
  constructor(
    readonly from: Name,
    readonly to: Name,
    readonly count: number,
    readonly concurrent: boolean,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.sessions.get(this.from)?.alive === true;
  }
  async run(m: Model, real: Real): Promise<void> {
    const session = real.sessions.get(this.from);
    if (!session) throw new Error(`no session ${this.from}`);
    const bodies = Array.from({ length: this.count }, (_, i) => body(m, this.from, this.to, i));
    const call = (message: string) => settled(session.send({ to: this.to, message }));
    const results: Settled<{ event: SentEvent; live: boolean }>[] = [];
    if (this.concurrent) results.push(...(await Promise.all(bodies.map(call))));
    else for (const message of bodies) results.push(await call(message));
    // The calls are applied in call order, whatever order their promises settle in.
    for (const [i, result] of results.entries()) {
      if (isRateLimited(m, this.from)) {
        expectRateLimited(result);
        continue;
      }
      if (!result.ok) throw result.error;
      const { event, live } = result.value;
      expect(event.from, 'INV-FROM').toBe(this.from);
      expect(event.to).toBe(this.to);
      expect(event.body).toBe(bodies[i]);
      expect(live).toBe(isLiveIn(m, this.to));
      record(m, event, this.from, this.to);
      m.sendTimes.get(this.from)?.push(m.now);
    }
    await checkInvariants(m, real);
  }
  toString(): string {
    return `send(${this.from}→${this.to} ×${this.count}${this.concurrent ? ' at once' : ''})`;
  }
}

/** A broadcast: one copy to each other live session, one send against the rate limit. */
export class BroadcastCommand implements Cmd {
  constructor(readonly from: Name) {}
  check(m: Readonly<Model>): boolean {
    return m.sessions.get(this.from)?.alive === true;
  }
  async run(m: Model, real: Real): Promise<void> {
    const session = real.sessions.get(this.from);
    if (!session) throw new Error(`no session ${this.from}`);
    const recipients = liveNames(m).filter((n) => n !== this.from);
    const result = await settled(session.broadcast({ message: body(m, this.from, 'ana', 0) }));
    if (recipients.length > 0 && isRateLimited(m, this.from)) {
      expectRateLimited(result);
    } else {
      if (!result.ok) throw result.error;
      expect(result.value.map((e) => e.to)).toEqual(recipients);
      for (const event of result.value) {
        expect(event.from, 'INV-FROM').toBe(this.from);
        record(m, event, this.from, event.to as Name);
      }
      if (recipients.length > 0) m.sendTimes.get(this.from)?.push(m.now);
    }
    await checkInvariants(m, real);
  }
  toString(): string {
    return `broadcast(${this.from})`;
  }
}

/**
 * A poll of one inbox; with `race`, a second poller (another window with the same name, `poll --name`)
 * polls it at the same moment. INV-ONCE: together they return each unexpired message exactly once;
 * INV-ORDER: what each returns is in send order per sender.
 */
/** How the primary poller takes mail: each delivery path that puts mail in front of a model. */
export type DeliveryPath = 'poll' | 'long-poll' | 'hook';

export class PollCommand implements Cmd {
  constructor(
    readonly inbox: Name,
    readonly race: boolean,
    readonly path: DeliveryPath = 'poll',
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, real: Real): Promise<void> {
    const session = real.sessions.get(this.inbox);
    const window = real.windows.get(this.inbox);
    if (!session || !window) throw new Error(`no session ${this.inbox}`);
    const byPath = async (): Promise<PollResult> => {
      if (this.path === 'long-poll') {
        const taken = await session.longPoll({ waitMs: 1 });
        await taken.commit();
        return taken;
      }
      if (this.path === 'poll') return session.poll({ via: 'poll' });
      const delivery = await deliverByHook(session.ctx, { hook_event_name: 'PostToolUse' }, () => '');
      await delivery?.take.commit();
      return delivery?.take ?? { messages: [], again: new Set(), remaining: 0, expired: 0 };
    };
    const alive = m.sessions.get(this.inbox)?.alive === true;

    const primary = (): Promise<PollResult> => (alive ? byPath() : pollInbox(window, { via: 'cli' }));
    const pollers = [primary];
    if (this.race) pollers.push(() => pollInbox(real.cli, { via: 'cli', name: this.inbox }));
    const results = await Promise.all(pollers.map((p) => p()));

    const queued = queuedIn(m, this.inbox);
    const eligible = queued.filter((msg) => isEligible(m, msg));
    const deliverable = queued.filter((msg) => !isEligible(m, msg));
    const got = results.flatMap((r) => r.messages.map((e) => e.key));
    expect(new Set(got).size, 'INV-ONCE: no message returned twice').toBe(got.length);
    expect([...got].sort(), 'INV-ONCE: every unexpired message once').toEqual(
      deliverable.map((msg) => msg.key).sort(),
    );
    for (const r of results) {
      for (const e of r.messages) {
        // INV-TAKE: what a killed taker had leased comes back marked `again`, and nothing else is.
        expect(r.again.has(e.key), `INV-TAKE: ${e.key} marked again`).toBe(m.again.has(e.key));
        if (m.again.delete(e.key)) reached.takenAgain++;
      }
      expect(r.remaining).toBe(0);
      for (const from of NAMES) {
        const order = m.queues.get(this.inbox)?.get(from) ?? [];
        const mine = r.messages.filter((e) => e.from === from).map((e) => order.indexOf(e.key));
        expect(mine, `INV-ORDER: ${from}→${this.inbox}`).toEqual([...mine].sort((a, b) => a - b));
      }
    }
    expect(
      results.reduce((n, r) => n + r.expired, 0),
      'INV-LIMITS: each expired message settled once',
    ).toBe(eligible.length);
    if (this.race && results.every((r) => r.messages.length > 0)) reached.raceSplit++;
    const byPrimary = results[0]?.messages ?? [];
    if (alive && this.path !== 'poll' && byPrimary.length > 0) {
      reached[this.path === 'hook' ? 'viaHook' : 'viaLongPoll']++;
      // INV-VIA: the log says which path put each message in front of a model.
      const via = this.path === 'hook' ? 'hook' : 'long-poll';
      for (const e of byPrimary) {
        const outcome = await session.ctx.store.readSettled(this.inbox, e.key);
        expect(outcome?.kind === 'consumed' ? outcome.via : outcome?.kind, `INV-VIA: ${e.key}`).toBe(via);
      }
    }
    if (eligible.length > 0) reached.expiry++;
    for (const msg of eligible) settle(m, msg.key, 'expired');
    for (const msg of deliverable) settle(m, msg.key, 'polled');
    for (const key of m.unarchived) if (m.messages.get(key)?.to === this.inbox) m.unarchived.delete(key);
    await checkInvariants(m, real, { counts: true });
  }
  toString(): string {
    return `poll(${this.inbox}${this.race ? ', raced' : ''})`;
  }
}

export class HeartbeatCommand implements Cmd {
  constructor(readonly name: Name) {}
  check(m: Readonly<Model>): boolean {
    return m.sessions.get(this.name)?.alive === true;
  }
  async run(m: Model, real: Real): Promise<void> {
    await real.sessions.get(this.name)?.heartbeat();
    const s = m.sessions.get(this.name);
    if (s) Object.assign(s, { lastBeat: m.now, markedLeft: false });
    await checkInvariants(m, real);
  }
  toString(): string {
    return `heartbeat(${this.name})`;
  }
}

/** Moves the injected clock forward; `ExpireCommand` moves it past the TTL of every waiting message. */
export class TickCommand implements Cmd {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, real: Real): Promise<void> {
    m.now += this.ms;
    real.clock.t += this.ms;
    await checkInvariants(m, real);
  }
  toString(): string {
    return `tick(${this.ms}ms)`;
  }
}

export class ExpireCommand extends TickCommand {
  override toString(): string {
    return `expire(+${this.ms}ms)`;
  }
}

/** What a clean that got past its sweeps did to the model, finished or not. */
function applySweeps(m: Model): { expired: number; stale: number } {
  let expired = 0;
  for (const to of NAMES) expired += expireEligible(m, to);
  let stale = 0;
  for (const name of NAMES) {
    const s = m.sessions.get(name);
    if (s && !isLiveIn(m, name) && !s.markedLeft) {
      s.markedLeft = true;
      stale++;
    }
  }
  m.tempFiles = 0;
  m.unarchived.clear();
  return { expired, stale };
}

async function expectNoLeftovers(real: Real): Promise<void> {
  expect(await real.cli.store.filesIn('tmp'), 'INV-ATOMIC: clean removes leftover temp files').toEqual([]);
  const snapshots = await fs.readdir(real.cli.store.paths.dir('snapshots'));
  expect(snapshots.filter((f) => f.startsWith('packing-') || f === 'clean.lock')).toEqual([]);
}

/** INV-COMPACT: `clean` changes no pending message (checkInvariants compares them with the model after). */
export class CleanCommand implements Cmd {
  check(): boolean {
    return true;
  }
  async run(m: Model, real: Real): Promise<void> {
    const archivable = m.unarchived.size;
    const temp = m.tempFiles;
    const report = await cleanStore(real.cli);
    const { expired, stale } = applySweeps(m);
    m.halfPacked = false;
    expect(report.expired).toBe(expired);
    expect(report.archived).toBe(archivable);
    expect(report.tempRemoved).toBe(temp);
    expect(report.staleSessions).toBe(stale);
    expect(report.quarantined).toEqual([]);
    if (expired > 0) reached.expiry++;
    await expectNoLeftovers(real);
    await checkInvariants(m, real, { counts: true });
  }
  toString(): string {
    return 'clean';
  }
}

export type CrashKind = 'temp' | 'settle' | 'packing' | 'kill';

const SIMULATED = 'ESIMULATEDCRASH';

function simulatedCrash(): NodeJS.ErrnoException {
  return Object.assign(new Error('simulated kill -9'), { code: SIMULATED });
}

function isSimulated(e: unknown): boolean {
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    if ((c as NodeJS.ErrnoException).code === SIMULATED) return true;
  }
  return false;
}

/**
 * Runs `clean`, killed at its `step`-th packing step: a move into `snapshots/packing-*`, a segment or
 * snapshot write (write-file-atomic's rename), or the removal of the staging folder. Resolves whether the
 * crash happened (a clean with fewer steps finishes).
 */
async function cleanKilledAt(real: Real, step: number): Promise<boolean> {
  const { rename, rm } = fs;
  const renameCallback = fsCallback.rename;
  let steps = 0;
  const due = () => ++steps === step;
  fs.rename = async (from, to) => {
    if (String(to).includes(`${path.sep}packing-`) && due()) throw simulatedCrash();
    return rename(from, to);
  };
  fs.rm = async (p, options) => {
    if (path.basename(String(p)).startsWith('packing-') && due()) throw simulatedCrash();
    return rm(p, options);
  };
  fsCallback.rename = ((from, to, callback) => {
    if (due()) return callback(simulatedCrash());
    return renameCallback(from, to, callback);
  }) as typeof fsCallback.rename;
  try {
    await cleanStore(real.cli);
    return false;
  } catch (e) {
    if (!isSimulated(e)) throw e;
    return true;
  } finally {
    Object.assign(fs, { rename, rm });
    fsCallback.rename = renameCallback;
  }
}

/**
 * A process dies mid-operation, at the file level: `temp` — a send killed before its link(2), leaving a
 * partial file in tmp/; `settle` — a poll killed between settling a message and archiving (and returning)
 * it: the message was consumed and must never be delivered again; `packing` — a clean killed half way
 * through packing, leaving `snapshots/packing-*` and its lock; `kill` — a session's process dies.
 */
export class CrashCommand implements Cmd {
  constructor(
    readonly kind: CrashKind,
    readonly pick: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    if (this.kind === 'settle') return NAMES.some((to) => queuedIn(m, to).length > 0);
    // A second crash while finishing the first one's staging is left out: the model could not tell
    // which of the sweeps ran.
    if (this.kind === 'packing') return !m.halfPacked;
    if (this.kind === 'kill') return m.sessions.get(NAMES[this.pick % NAMES.length] as Name)?.alive === true;
    return true;
  }
  async run(m: Model, real: Real): Promise<void> {
    const store = real.cli.store;
    if (this.kind === 'temp') {
      const dir = store.paths.dir('tmp');
      await fs.mkdir(dir, { recursive: true });
      const partial = JSON.stringify({ v: 1, kind: 'sent', key: 'x', body: 'half a message' }).slice(0, 30);
      await fs.writeFile(path.join(dir, `99999-${String(this.pick).padStart(12, '0')}.tmp`), partial, {
        flag: 'a',
      });
      m.tempFiles = (await store.filesIn('tmp')).length;
      reached.crashTemp++;
    } else if (this.kind === 'settle') {
      const all = NAMES.flatMap((to) => queuedIn(m, to)).sort((a, b) => (a.key < b.key ? -1 : 1));
      const victim = all[this.pick % all.length] as Msg;
      const by = { name: victim.to, machine: real.config.machine, pid: 99_999, instance: 'crashed0' };
      const won = await store.settle({
        v: 1,
        kind: 'consumed',
        key: victim.key,
        to: victim.to,
        atMs: m.now,
        via: 'poll',
        by,
      });
      expect(won).toBe(true);
      settle(m, victim.key, 'crashed');
      m.unarchived.add(victim.key);
      reached.crashSettle++;
    } else if (this.kind === 'packing') {
      const crashed = await cleanKilledAt(real, 1 + (this.pick % 6));
      applySweeps(m);
      const snapshots = store.paths.dir('snapshots');
      const packing = (await fs.readdir(snapshots)).filter((f) => f.startsWith('packing-'));
      m.halfPacked = packing.length > 0;
      if (crashed) {
        // kill -9 runs no finally: the lock stays behind, held by a pid that is now dead.
        await fs.writeFile(path.join(snapshots, 'clean.lock'), '3');
        if (m.halfPacked) reached.crashPacking++;
      } else {
        await expectNoLeftovers(real);
      }
    } else {
      const name = NAMES[this.pick % NAMES.length] as Name;
      real.alive.delete(real.pids.get(name) ?? -1);
      const s = m.sessions.get(name);
      if (s) s.alive = false;
      reached.crashKill++;
    }
    await checkInvariants(m, real, { counts: true });
  }
  toString(): string {
    return `crash(${this.kind}, ${this.pick})`;
  }
}

/** A session exits cleanly and starts again under the same name, with a fresh clock and pid. */
export class RestartCommand implements Cmd {
  constructor(readonly name: Name) {}
  check(m: Readonly<Model>): boolean {
    return m.sessions.get(this.name)?.alive === true;
  }
  async run(m: Model, real: Real): Promise<void> {
    await real.sessions.get(this.name)?.stop();
    real.alive.delete(real.pids.get(this.name) ?? -1);
    const session = await startSession(real, this.name);
    expect(session.name, 'INV-LIVENESS: the name is free again after `left`').toBe(this.name);
    expect(session.renamedFrom).toBeUndefined();
    const s = m.sessions.get(this.name);
    if (s) Object.assign(s, { lastBeat: m.now, markedLeft: false });
    reached.restart++;
    await checkInvariants(m, real);
  }
  toString(): string {
    return `restart(${this.name})`;
  }
}

/**
 * A session takes its inbox and is killed before its answer leaves the process (kill -9 between the take and
 * the write): no commit, no release. What it leased must stay queued and come back, marked `again`.
 */
export class KillMidTakeCommand implements Cmd {
  constructor(readonly name: Name) {}
  check(m: Readonly<Model>): boolean {
    // Only where there is something to lose: a kill with nothing leased is the plain kill already covered.
    const waiting = queuedIn(m, this.name).some((msg) => !isEligible(m, msg));
    return m.sessions.get(this.name)?.alive === true && waiting;
  }
  async run(m: Model, real: Real): Promise<void> {
    const session = real.sessions.get(this.name);
    if (!session) throw new Error(`no session ${this.name}`);
    const taken = await takeInbox(session.ctx, { via: 'poll' });
    real.alive.delete(real.pids.get(this.name) ?? -1);
    const s = m.sessions.get(this.name);
    if (s) s.alive = false;
    expect(taken.expired, 'INV-LIMITS: the take expired what had run out').toBe(expireEligible(m, this.name));
    const queued = new Set(queuedIn(m, this.name).map((msg) => msg.key));
    for (const e of taken.messages) {
      expect(queued.has(e.key), `INV-ONCE: ${e.key} was queued`).toBe(true);
      m.again.add(e.key);
    }
    // Like any take, it finished moving out what a crashed poller had settled.
    for (const key of m.unarchived) if (m.messages.get(key)?.to === this.name) m.unarchived.delete(key);
    if (taken.messages.length > 0) reached.killMidTake++;
    await checkInvariants(m, real);
  }
  toString(): string {
    return `killMidTake(${this.name})`;
  }
}

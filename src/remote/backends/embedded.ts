import { formatStamp, HybridClock } from '../../log/clock.js';
import { type HeartbeatEvent, KEY_PATTERN } from '../../log/events.js';
import { MachineStores } from '../../log/machine-stores.js';
import type { ProblemSink, Store } from '../../log/store.js';
import { foldSessions, liveSessions } from '../../projections/sessions.js';
import { decideTake, evolveTaken, initialTaken } from '../../projections/take.js';
import type { Backend, BackendHealth, BackendOptions, PollRequest, StoredMessage } from '../backend.js';
import { LEASE_MAX_BYTES } from '../backend.js';
import { leasedOf, presenceOf, sentEventOf, wireOfSent } from '../convert.js';
import { HttpError } from '../errors.js';
import type { HeartbeatBody, LeasedMessage, Presence } from '../protocol.js';
import { appendScoped } from '../scoped.js';

/** How often a waiting poll looks again without being woken (a lease ran out, another process wrote). */
const RESCAN_MS = 1000;
const RELAY_INSTANCE = 'relay000';

/**
 * The relay's storage on the project's own event log: one store per machine under `<data>/machines/<m>/`,
 * laid out exactly like a client's `RELAY_HOME` (inbox, settled, archive, sessions), so `claude-relay status`
 * with `RELAY_HOME` set to one of them shows it. A message's file is named by its key scoped by the sending
 * machine (scoped.ts), so a retried send finds its first copy (`link(2)` says EEXIST) and an ack is the exclusive `consumed` event. Leases live in memory:
 * one relay process per data directory (several relays share NATS instead).
 */
export class EmbeddedBackend implements Backend {
  readonly kind = 'embedded' as const;
  private readonly stores: MachineStores;
  private readonly options: BackendOptions;
  private readonly now: () => number;
  private readonly clock: HybridClock;
  private readonly leases = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly joined = new Map<string, string>();
  private closed = false;

  constructor(dataDir: string, options: BackendOptions, onProblem: ProblemSink = () => {}) {
    this.stores = new MachineStores(dataDir, onProblem);
    this.options = options;
    this.now = options.now ?? Date.now;
    this.clock = new HybridClock(this.now);
  }

  private store(machine: string): Store {
    return this.stores.of(machine);
  }

  async health(): Promise<BackendHealth> {
    const detail = await this.stores.unwritable();
    return detail === undefined ? { ok: true } : { ok: false, detail };
  }

  async send(m: StoredMessage): Promise<{ duplicate: boolean }> {
    // Idempotent per sending machine: a settled or stored copy of this machine's key is a retried send.
    const { result } = await appendScoped(this.store(m.toMachine), sentEventOf(m, m.to));
    if (result === 'created') this.wake(m.toMachine, m.to);
    return { duplicate: result === 'exists' };
  }

  async known(machine: string, name: string): Promise<boolean> {
    return this.store(machine).knownSession(name);
  }

  async heartbeat(machine: string, name: string, beat: HeartbeatBody): Promise<void> {
    const store = this.store(machine);
    const at = formatStamp(this.clock.tick());
    const id = `${machine}\0${name}\0${beat.instance}`;
    const joined = this.joined.get(id) ?? at;
    this.joined.set(id, joined);
    const event: HeartbeatEvent = {
      v: 1,
      kind: 'heartbeat',
      name,
      instance: beat.instance,
      at,
      atMs: Math.floor(this.now()),
      pid: beat.pid,
      cwd: beat.cwd,
      machine,
      startedAt: beat.startedAt,
      joined,
      ...(beat.client === undefined ? {} : { client: beat.client }),
    };
    const file = await store.appendSessionEvent(event);
    await store.compactSession(name, beat.instance, file);
  }

  async leave(machine: string, name: string, instance: string): Promise<void> {
    const store = this.store(machine);
    const file = await store.appendSessionEvent({
      v: 1,
      kind: 'left',
      name,
      instance,
      at: formatStamp(this.clock.tick()),
      atMs: Math.floor(this.now()),
      reason: 'exit',
    });
    await store.compactSession(name, instance, file);
    this.joined.delete(`${machine}\0${name}\0${instance}`);
  }

  async live(machine: string, name: string): Promise<boolean> {
    return (await this.sessionsOf(machine)).some((s) => s.name === name);
  }

  async sessions(): Promise<Presence[]> {
    const out: Presence[] = [];
    for (const machine of await this.stores.machines()) out.push(...(await this.sessionsOf(machine)));
    return out;
  }

  private async sessionsOf(machine: string): Promise<Presence[]> {
    const view = {
      now: this.now(),
      windowMs: this.options.liveWindowMs,
      // No machine's pid can be checked from here: liveness is the heartbeat's age alone.
      machine: '',
      isPidAlive: () => true,
    };
    const state = foldSessions(await this.store(machine).latestSessionEvents());
    return liveSessions(state, view).map((beat) => presenceOf({ ...beat, machine }));
  }

  async poll(machine: string, name: string, request: PollRequest): Promise<LeasedMessage[]> {
    const deadline = this.now() + request.waitMs;
    for (;;) {
      const leased = await this.lease(machine, name, request.max);
      const refused = leased.length > 0 && request.admit !== undefined && !(await request.admit());
      if (refused || request.signal?.aborted) {
        for (const m of leased) this.leases.delete(this.leaseId(machine, name, m.ack));
        return [];
      }
      const left = deadline - this.now();
      if (leased.length > 0 || left <= 0 || this.closed) return leased;
      await this.waitForWake(machine, name, Math.min(left, RESCAN_MS), request.signal);
    }
  }

  async ack(machine: string, name: string, tokens: readonly string[]): Promise<number> {
    const store = this.store(machine);
    for (const token of tokens) {
      if (!KEY_PATTERN.test(token)) {
        throw new HttpError(
          400,
          'bad_ack',
          `The ack token ${JSON.stringify(token.slice(0, 40))} is not one this relay gave out; send back the \`ack\` of a polled message.`,
        );
      }
    }
    let acked = 0;
    for (const token of tokens) {
      const lease = this.leaseId(machine, name, token);
      if (await store.readSettled(name, token)) {
        await store.archive(name, token);
      } else if (await store.hasInboxFile(name, token)) {
        const by = { name, machine, pid: 0, instance: RELAY_INSTANCE };
        const atMs = Math.floor(this.now());
        await store.consume({ v: 1, kind: 'consumed', key: token, to: name, atMs, via: 'poll', by });
      } else {
        // Only a message that is in this inbox can be settled: an ack cannot plant outcomes for future keys.
        this.leases.delete(lease);
        continue;
      }
      // Only now: while the outcome was being written, the lease kept other polls off this message.
      this.leases.delete(lease);
      acked++;
    }
    return acked;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.waiters.values()) for (const wake of set) wake();
    this.waiters.clear();
  }

  private leaseId(machine: string, name: string, key: string): string {
    return `${machine}\0${name}\0${key}`;
  }

  /** Claims messages nobody holds a running lease on; the claim is made before any await, so two polls never share one. */
  private async lease(machine: string, name: string, max: number): Promise<LeasedMessage[]> {
    const store = this.store(machine);
    const out: LeasedMessage[] = [];
    const budget = { maxCount: max, maxBytes: LEASE_MAX_BYTES };
    let taken = initialTaken();
    for (const key of await store.inboxKeys(name)) {
      const id = this.leaseId(machine, name, key);
      const now = this.now();
      const until = this.leases.get(id);
      if (until !== undefined && until > now) continue;
      this.leases.set(id, now + this.options.leaseMs);
      const release = () => this.leases.delete(id);
      if (await store.readSettled(name, key)) {
        release();
        await store.archive(name, key);
        continue;
      }
      const message = await store.readInbox(name, key);
      if (!message) {
        release();
        continue;
      }
      const decision = decideTake(message, Math.floor(now), taken, budget);
      if (decision === 'expire') {
        await store.expire(name, key, Math.floor(now));
        release();
        continue;
      }
      if (decision === 'stop') {
        release();
        break;
      }
      taken = evolveTaken(taken, message);
      out.push(leasedOf(wireOfSent(message), name, key));
    }
    return out;
  }

  private wake(machine: string, name: string): void {
    const set = this.waiters.get(`${machine}\0${name}`);
    if (!set) return;
    for (const wake of set) wake();
  }

  private waitForWake(machine: string, name: string, ms: number, signal?: AbortSignal): Promise<void> {
    const id = `${machine}\0${name}`;
    return new Promise((resolve) => {
      let set = this.waiters.get(id);
      if (!set) {
        set = new Set();
        this.waiters.set(id, set);
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

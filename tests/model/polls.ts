import { expect } from 'vitest';
import { deliverByHook } from '../../src/relay/hook.js';
import { type PollResult, pollInbox } from '../../src/relay/poll.js';
import { takeInbox } from '../../src/relay/take.js';
import type { Cmd } from './cmd.js';
import {
  checkInvariants,
  expireEligible,
  isEligible,
  type Model,
  NAMES,
  type Name,
  queuedIn,
  type Real,
  reached,
  settle,
} from './world.js';

/** Taking mail: a poll by each delivery path (alone or raced), and a session killed mid-take. */

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

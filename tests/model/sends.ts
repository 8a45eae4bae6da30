import { expect } from 'vitest';
import { isRelayError } from '../../src/errors.js';
import type { SentEvent } from '../../src/log/events.js';
import { body, type Cmd, type Settled, settled } from './cmd.js';
import {
  checkInvariants,
  isLiveIn,
  isRateLimited,
  liveNames,
  type Model,
  type Name,
  type Real,
  reached,
} from './world.js';

/** Sends and broadcasts, with the model of what each stores and which the rate limit refuses. */

function record(m: Model, event: SentEvent, from: Name, to: Name): void {
  const last = m.lastKey.get(from);
  if (last !== undefined) expect(event.key > last, `INV-ORDER: ${event.key} after ${last}`).toBe(true);
  m.lastKey.set(from, event.key);
  m.messages.set(event.key, { key: event.key, from, to, sentAt: m.now, outcome: 'queued' });
  m.queues.get(to)?.get(from)?.push(event.key);
}

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

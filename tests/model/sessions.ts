import { expect } from 'vitest';
import type { Cmd } from './cmd.js';
import { checkInvariants, type Model, type Name, type Real, reached, startSession } from './world.js';

/** A session's life and the clock: heartbeats, time passing, expiry, a clean restart. */

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

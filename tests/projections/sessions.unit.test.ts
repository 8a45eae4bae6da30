import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatStamp } from '../../src/log/clock.js';
import type { HeartbeatEvent, LeftEvent, SessionEvent } from '../../src/log/events.js';
import {
  evolveSessions,
  foldSessions,
  initialSessions,
  isLive,
  type LivenessView,
  liveSessions,
  staleInstances,
} from '../../src/projections/sessions.js';
import { heartbeat, left, sent, sessionEventArb, T0 } from '../support/events.js';

const WINDOW = 120_000;
const at = (ms: number, n = 0) => formatStamp({ ms, n });

function view(now: number, alive: (pid: number) => boolean = () => true): LivenessView {
  return { now, windowMs: WINDOW, machine: 'box', isPidAlive: alive };
}

/** The model: per name and instance, the event with the greatest stamp (the first one on a tie). */
function newestPerInstance(events: readonly SessionEvent[]): Map<string, SessionEvent> {
  const out = new Map<string, SessionEvent>();
  for (const e of events) {
    const id = `${e.name}/${e.instance}`;
    const prev = out.get(id);
    if (prev === undefined || e.at > prev.at) out.set(id, e);
  }
  return out;
}

const logArb = fc.array(sessionEventArb, { maxLength: 30 });

describe('INV-FOLD: the sessions projection', () => {
  it('property: evolving event by event equals folding the whole list', () => {
    fc.assert(
      fc.property(logArb, (events) => {
        expect(events.reduce(evolveSessions, initialSessions())).toEqual(foldSessions(events));
      }),
    );
  });

  it('property: it keeps the newest event of each instance, whatever the order read', () => {
    fc.assert(
      fc.property(logArb, (events) => {
        const state = foldSessions(events);
        const flat = new Map<string, SessionEvent>();
        for (const [name, instances] of state) for (const [i, e] of instances) flat.set(`${name}/${i}`, e);
        expect(flat).toEqual(newestPerInstance(events));
      }),
    );
  });

  it('given a left after a heartbeat, then the instance is gone from the live view', () => {
    const state = foldSessions([heartbeat({ at: at(T0) }), left({ at: at(T0, 1) })]);
    expect(liveSessions(state, view(T0))).toEqual([]);
  });

  it('given an older heartbeat read after a left, then the left still stands', () => {
    const state = foldSessions([left({ at: at(T0 + 5) }), heartbeat({ at: at(T0) })]);
    expect(state.get('api')?.get('aaaaaaaa')?.kind).toBe('left');
  });

  it('given events that are not session events, then nothing changes', () => {
    const m = sent({ key: `${at(T0)}-abc123` });
    expect(evolveSessions(initialSessions(), m)).toEqual(initialSessions());
  });
});

describe('INV-LIVENESS: the liveness view (now and the pid check injected)', () => {
  const beat = heartbeat({ at: at(T0), pid: 100 });

  it('a heartbeat is live while under the window old, and stale once it is the window old', () => {
    expect(isLive(beat, view(T0 + WINDOW - 1))).toBe(true);
    expect(isLive(beat, view(T0 + WINDOW))).toBe(false);
  });

  it('a heartbeat on this machine is dead when its pid is', () => {
    const calls: number[] = [];
    const alive = (pid: number) => {
      calls.push(pid);
      return false;
    };
    expect(isLive(beat, view(T0, alive))).toBe(false);
    expect(calls).toEqual([100]);
  });

  it('a heartbeat from another machine is not pid-checked', () => {
    const far = heartbeat({ at: at(T0), machine: 'far', pid: 100 });
    expect(
      isLive(
        far,
        view(T0, () => false),
      ),
    ).toBe(true);
    expect(
      isLive(
        far,
        view(T0 + WINDOW + 1, () => true),
      ),
    ).toBe(false);
  });

  it('given two live instances of one name, then the name is listed once, with its newest', () => {
    const a = heartbeat({ at: at(T0), instance: 'aaaaaaaa', pid: 1 });
    const b = heartbeat({ at: at(T0 + 10), instance: 'bbbbbbbb', pid: 2 });
    expect(liveSessions(foldSessions([b, a]), view(T0 + 20))).toEqual([b]);
  });

  it('given the newest instance dead, then the older live one speaks for the name', () => {
    const a = heartbeat({ at: at(T0), instance: 'aaaaaaaa', pid: 1 });
    const b = heartbeat({ at: at(T0 + 10), instance: 'bbbbbbbb', pid: 2 });
    expect(
      liveSessions(
        foldSessions([a, b]),
        view(T0 + 20, (pid) => pid === 1),
      ),
    ).toEqual([a]);
  });

  it('lists live sessions sorted by name', () => {
    const events = ['web', 'api', 'db'].map((name) => heartbeat({ at: at(T0), name }));
    expect(liveSessions(foldSessions(events), view(T0)).map((s) => s.name)).toEqual(['api', 'db', 'web']);
  });

  it('property: live and stale split the instances whose last event is a heartbeat', () => {
    let staleSeen = 0;
    let liveSeen = 0;
    fc.assert(
      fc.property(
        logArb,
        fc.integer({ min: 0, max: 600_000 }),
        fc.subarray([100, 200, 300]),
        (events, offset, deadPids) => {
          const now = T0 + offset;
          const alive = (pid: number) => !deadPids.includes(pid);
          const state = foldSessions(events);
          const beats = [...newestPerInstance(events).values()].filter(
            (e): e is HeartbeatEvent => e.kind === 'heartbeat',
          );
          const modelLive = (b: HeartbeatEvent) =>
            now - b.atMs <= WINDOW && (b.machine !== 'box' || alive(b.pid));
          const stale = staleInstances(state, view(now, alive));
          expect(new Set(stale)).toEqual(new Set(beats.filter((b) => !modelLive(b))));
          const live = liveSessions(state, view(now, alive));
          const names = [...new Set(beats.filter(modelLive).map((b) => b.name))].sort();
          expect(live.map((s) => s.name)).toEqual(names);
          for (const s of live) {
            const newest = beats
              .filter((b) => b.name === s.name && modelLive(b))
              .sort((x, y) => (x.at < y.at ? 1 : -1))[0];
            expect(s.at).toBe(newest?.at);
          }
          staleSeen += stale.length;
          liveSeen += live.length;
        },
      ),
    );
    expect(staleSeen).toBeGreaterThan(0);
    expect(liveSeen).toBeGreaterThan(0);
  });

  it('a left instance is neither live nor stale', () => {
    const gone: LeftEvent = left({ at: at(T0) });
    const state = foldSessions([gone]);
    expect(liveSessions(state, view(T0 + 10 * WINDOW))).toEqual([]);
    expect(staleInstances(state, view(T0 + 10 * WINDOW))).toEqual([]);
  });
});

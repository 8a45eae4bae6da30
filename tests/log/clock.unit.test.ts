import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareStamps, formatStamp, HybridClock, parseStamp, type Stamp } from '../../src/log/clock.js';

const T = 1_700_000_000_000;

/** A wall clock the test moves by hand. */
function manual(start: number): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (next) => (t = next) };
}

const stampArb: fc.Arbitrary<Stamp> = fc.record({
  ms: fc.integer({ min: 0, max: 9_999_999_999_999 }),
  n: fc.integer({ min: 0, max: 99_999_999 }),
});

describe('INV-ORDER: the hybrid logical clock', () => {
  it('given a frozen wall clock, when it ticks many times in one ms, then the counter orders them', () => {
    const clock = new HybridClock(() => T);
    const stamps = Array.from({ length: 10_000 }, () => clock.tick());
    expect(stamps[0]).toEqual({ ms: T, n: 0 });
    expect(stamps[9_999]).toEqual({ ms: T, n: 9_999 });
    const names = stamps.map(formatStamp);
    expect([...names].sort()).toEqual(names);
    expect(new Set(names).size).toBe(10_000);
  });

  it('given the wall clock moves on, then the counter starts again at 0', () => {
    const wall = manual(T);
    const clock = new HybridClock(wall.now);
    clock.tick();
    clock.tick();
    wall.set(T + 1);
    expect(clock.tick()).toEqual({ ms: T + 1, n: 0 });
  });

  it('given the wall clock steps back an hour, then stamps keep growing from the last one', () => {
    const wall = manual(T);
    const clock = new HybridClock(wall.now);
    const before = clock.tick();
    wall.set(T - 3_600_000);
    const after = [clock.tick(), clock.tick()];
    expect(before).toEqual({ ms: T, n: 0 });
    expect(after).toEqual([
      { ms: T, n: 1 },
      { ms: T, n: 2 },
    ]);
  });

  it('property: under any wall clock, each stamp is greater than the previous and never behind the wall', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: T }), { minLength: 1, maxLength: 200 }), (walls) => {
        let i = 0;
        const clock = new HybridClock(() => walls[i] as number);
        let prev: Stamp | undefined;
        for (; i < walls.length; i++) {
          const s = clock.tick();
          if (prev) expect(compareStamps(s, prev)).toBeGreaterThan(0);
          expect(s.ms).toBeGreaterThanOrEqual(walls[i] as number);
          prev = s;
        }
      }),
    );
  });

  it('given a fractional wall clock, then the stamp holds whole milliseconds', () => {
    expect(new HybridClock(() => T + 0.75).tick()).toEqual({ ms: T, n: 0 });
  });

  it('when it observes a stamp ahead of it, then the next tick comes after that stamp', () => {
    const clock = new HybridClock(() => T);
    clock.observe({ ms: T + 5_000, n: 7 });
    expect(clock.tick()).toEqual({ ms: T + 5_000, n: 8 });
  });

  it('when it observes a stamp behind it, then nothing changes', () => {
    const clock = new HybridClock(() => T);
    clock.tick();
    clock.tick();
    clock.observe({ ms: T - 1, n: 99 });
    clock.observe({ ms: T, n: 0 });
    expect(clock.tick()).toEqual({ ms: T, n: 2 });
  });

  it('given a persisted last stamp in the constructor, then it continues after it', () => {
    const clock = new HybridClock(() => T - 10, { ms: T, n: 3 });
    expect(clock.tick()).toEqual({ ms: T, n: 4 });
  });

  it('property: after observing any stamps, a tick is greater than all of them', () => {
    fc.assert(
      fc.property(fc.array(stampArb, { maxLength: 20 }), fc.integer({ min: 0, max: T }), (seen, wall) => {
        const clock = new HybridClock(() => wall);
        for (const s of seen) clock.observe(s);
        const next = clock.tick();
        for (const s of seen) expect(compareStamps(next, s)).toBeGreaterThan(0);
      }),
    );
  });

  it('wall() is the injected wall clock, not the logical one', () => {
    const wall = manual(T);
    const clock = new HybridClock(wall.now);
    clock.observe({ ms: T + 99_999, n: 0 });
    wall.set(T - 5);
    expect(clock.wall()).toBe(T - 5);
  });
});

describe('INV-ORDER: stamps as file names', () => {
  it('formats as 13-digit ms, a dash, and an 8-digit counter', () => {
    expect(formatStamp({ ms: 42, n: 7 })).toBe('0000000000042-00000007');
    expect(formatStamp({ ms: T, n: 0 })).toBe('1700000000000-00000000');
  });

  it('property: parseStamp(formatStamp(s)) is s', () => {
    fc.assert(
      fc.property(stampArb, (s) => {
        expect(parseStamp(formatStamp(s))).toEqual(s);
      }),
    );
  });

  it('property: string order of formatted stamps is stamp order', () => {
    fc.assert(
      fc.property(stampArb, stampArb, (a, b) => {
        const fa = formatStamp(a);
        const fb = formatStamp(b);
        const byString = fa < fb ? -1 : fa > fb ? 1 : 0;
        expect(byString).toBe(Math.sign(compareStamps(a, b)));
      }),
    );
  });

  it('property: stamps that share their ms or counter still order by string', () => {
    const close = fc.record({ ms: fc.integer({ min: T, max: T + 2 }), n: fc.integer({ min: 0, max: 12 }) });
    fc.assert(
      fc.property(fc.array(close, { maxLength: 30 }), (stamps) => {
        const byStamp = [...stamps].sort(compareStamps).map(formatStamp);
        const byString = stamps.map(formatStamp).sort();
        expect(byString).toEqual(byStamp);
      }),
    );
  });

  it.each([
    '',
    '1700000000000',
    '1700000000000-0000000',
    '170000000000-00000000',
    '1700000000000-000000001',
    '1700000000000_00000000',
    'x700000000000-00000000',
    ' 1700000000000-00000000',
    '1700000000000-00000000-abc123',
  ])('parseStamp(%j) is undefined', (text) => {
    expect(parseStamp(text)).toBeUndefined();
  });
});

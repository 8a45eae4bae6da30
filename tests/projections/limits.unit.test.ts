import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRelayError, type RelayError } from '../../src/errors.js';
import {
  checkBody,
  checkRate,
  DEFAULT_LIMITS,
  type Limits,
  RATE_WINDOW_MS,
} from '../../src/projections/limits.js';

const T = 1_700_000_000_000;

function refusal(f: () => void): RelayError | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!isRelayError(e)) throw e;
    return e;
  }
}

describe('INV-LIMITS: body size, counted in UTF-8 bytes', () => {
  it('the default limit is 1,000,000 bytes, 60 sends a minute and a 7-day TTL', () => {
    expect(DEFAULT_LIMITS).toEqual({ maxBodyBytes: 1_000_000, sendsPerMinute: 60, ttlMs: 604_800_000 });
  });

  it.each([
    ['ASCII', 'a'.repeat(1_000_000)],
    ['2-byte chars', 'é'.repeat(500_000)],
    ['4-byte chars (surrogate pairs)', '😀'.repeat(250_000)],
  ])('given exactly 1,000,000 bytes of %s, it is accepted', (_what, body) => {
    expect(refusal(() => checkBody(body, DEFAULT_LIMITS))).toBeUndefined();
  });

  it.each([
    ['ASCII', 'a'.repeat(1_000_001), 1_000_001],
    ['2-byte chars plus one', `${'é'.repeat(500_000)}a`, 1_000_001],
    ['3-byte chars, fewer chars than the limit', '€'.repeat(333_334), 1_000_002],
    ['4-byte chars plus one', `${'😀'.repeat(250_000)}!`, 1_000_001],
  ])('given %s, it is refused as too_large with the byte count', (_what, body, bytes) => {
    const e = refusal(() => checkBody(body, DEFAULT_LIMITS));
    expect(e?.code).toBe('too_large');
    expect(e?.message).toBe(
      `The message is ${bytes} bytes, over the 1000000-byte limit; send a shorter one, or a file path to read instead.`,
    );
  });

  it('given an empty body, it is refused as bad_input', () => {
    const e = refusal(() => checkBody('', DEFAULT_LIMITS));
    expect(e?.code).toBe('bad_input');
    expect(e?.message).toBe('The message is empty; write something to send.');
  });

  it('property: a body is refused exactly when its UTF-8 encoding passes the limit', () => {
    const limits: Limits = { ...DEFAULT_LIMITS, maxBodyBytes: 16 };
    let refused = 0;
    let accepted = 0;
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), (body) => {
        const bytes = new TextEncoder().encode(body).length;
        const e = refusal(() => checkBody(body, limits));
        expect(e?.code).toBe(bytes > 16 ? 'too_large' : undefined);
        if (e) refused++;
        else accepted++;
      }),
    );
    expect(refused).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
  });
});

describe('INV-LIMITS: the rate limit window', () => {
  const sixty = (at: number) => Array.from({ length: 60 }, () => at);

  it('given 59 sends in the last minute, then one more is allowed', () => {
    expect(refusal(() => checkRate(sixty(T).slice(1), T, DEFAULT_LIMITS))).toBeUndefined();
  });

  it('given 60 sends in this ms, then the next is refused with 60 s to wait', () => {
    const e = refusal(() => checkRate(sixty(T), T, DEFAULT_LIMITS));
    expect(e?.code).toBe('rate_limited');
    expect(e?.retryAfter).toBe(60);
    expect(e?.message).toBe('Rate limit: 60 sends a minute from one session; wait 60s and send again.');
  });

  it('given 60 sends a minute ago to the ms, then they have left the window', () => {
    expect(refusal(() => checkRate(sixty(T), T + RATE_WINDOW_MS, DEFAULT_LIMITS))).toBeUndefined();
    expect(refusal(() => checkRate(sixty(T), T + RATE_WINDOW_MS - 1, DEFAULT_LIMITS))?.retryAfter).toBe(1);
  });

  it('given the wall clock stepped back under a minute after 60 sends, then they still count', () => {
    const e = refusal(() => checkRate(sixty(T), T - 30_000, DEFAULT_LIMITS));
    expect(e?.code).toBe('rate_limited');
    expect(e?.retryAfter).toBeGreaterThan(60);
  });

  it('given the wall clock stepped back an hour after 60 sends, then they no longer block the sender for an hour', () => {
    expect(refusal(() => checkRate(sixty(T), T - 3_600_000, DEFAULT_LIMITS))).toBeUndefined();
  });

  it('given sends in any order, then the wait is until the oldest of the last 60 leaves', () => {
    const times = Array.from({ length: 60 }, (_, i) => T - 59_000 + i * 1_000).reverse();
    expect(refusal(() => checkRate(times, T, DEFAULT_LIMITS))?.retryAfter).toBe(1);
  });

  it('property: refused exactly when the window holds the limit, and the wait is exact to the second', () => {
    let refused = 0;
    let allowed = 0;
    fc.assert(
      fc.property(
        // Stamps up to a window ahead (a small clock step back); further ahead they no longer count at all.
        fc.array(fc.integer({ min: T - 130_000, max: T + RATE_WINDOW_MS - 1 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 6 }),
        (times, perMinute) => {
          const limits = { ...DEFAULT_LIMITS, sendsPerMinute: perMinute };
          const inWindow = (now: number) =>
            times.filter((t) => now - t < RATE_WINDOW_MS && t - now < RATE_WINDOW_MS).length;
          const e = refusal(() => checkRate(times, T, limits));
          expect(e !== undefined).toBe(inWindow(T) >= perMinute);
          if (e === undefined) {
            allowed++;
            return;
          }
          refused++;
          const wait = e.retryAfter ?? 0;
          expect(wait).toBeGreaterThanOrEqual(1);
          // Waiting the time it says is enough; a second less is not.
          expect(inWindow(T + wait * 1_000)).toBeLessThan(perMinute);
          if (wait > 1) expect(inWindow(T + (wait - 1) * 1_000)).toBeGreaterThanOrEqual(perMinute);
        },
      ),
    );
    expect(refused).toBeGreaterThan(0);
    expect(allowed).toBeGreaterThan(0);
  });
});

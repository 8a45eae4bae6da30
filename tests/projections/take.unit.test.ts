import { describe, expect, it } from 'vitest';
import { decideTake, evolveTaken, initialTaken, UNLIMITED } from '../../src/projections/take.js';

const message = (body: string, sentAt = 1000, ttlMs = 500) => ({ body, sentAt, ttlMs });

describe('decideTake', () => {
  it('given a message within its TTL and an empty take, then it is consumed', () => {
    expect(decideTake(message('hi'), 1499, initialTaken(), UNLIMITED)).toBe('consume');
  });

  it('given a message whose TTL ran out, then it is expired, at the very millisecond', () => {
    expect(decideTake(message('hi'), 1500, initialTaken(), UNLIMITED)).toBe('expire');
  });

  it('given the count is reached, then the take stops, even before an expired message', () => {
    const taken = evolveTaken(initialTaken(), message('a'));
    expect(decideTake(message('b'), 1000, taken, { maxCount: 1, maxBytes: 100 })).toBe('stop');
    expect(decideTake(message('b'), 9999, taken, { maxCount: 1, maxBytes: 100 })).toBe('stop');
  });

  it('given the byte budget would be passed, then the take stops; an expired message is still expired', () => {
    const taken = evolveTaken(initialTaken(), message('12345'));
    const budget = { maxCount: 10, maxBytes: 8 };
    expect(decideTake(message('1234'), 1000, taken, budget)).toBe('stop');
    expect(decideTake(message('123'), 1000, taken, budget)).toBe('consume');
    expect(decideTake(message('1234'), 1500, taken, budget)).toBe('expire');
  });

  it('given a first message larger than the budget, then it is consumed all the same', () => {
    expect(decideTake(message('x'.repeat(50)), 1000, initialTaken(), { maxCount: 5, maxBytes: 8 })).toBe(
      'consume',
    );
  });

  it('counts bodies in UTF-8 bytes, not characters', () => {
    const taken = evolveTaken(initialTaken(), message('é'));
    expect(taken).toEqual({ count: 1, bytes: 2 });
    expect(decideTake(message('é'), 1000, taken, { maxCount: 5, maxBytes: 3 })).toBe('stop');
  });
});

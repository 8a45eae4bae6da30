import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FORMAT_VERSION } from '../../src/log/events.js';
import { parseEvent, type ReadResult } from '../../src/log/read.js';
import { anyEventArb, keyOf, sent, T0 } from '../support/events.js';

const message = sent({ key: keyOf(T0, 0, 'abc123') });

function reason(r: ReadResult): string {
  if (r.ok) throw new Error(`expected a refusal, got a ${r.event.kind} event`);
  expect(r.missing).toBe(false);
  return r.reason;
}

describe('INV-BAD-INPUT: parseEvent reads one event file', () => {
  it('given a valid sent event, it returns the event', () => {
    expect(parseEvent(JSON.stringify(message))).toEqual({ ok: true, event: message });
  });

  it('property: every valid event survives JSON and back', () => {
    fc.assert(
      fc.property(anyEventArb, (event) => {
        expect(parseEvent(JSON.stringify(event))).toEqual({ ok: true, event });
      }),
    );
  });

  it.each([
    ['empty', ''],
    ['truncated', JSON.stringify(message).slice(0, 40)],
    ['not JSON', 'hello'],
    ['binary', '\u0000\u0001\u0002'],
  ])('given %s text, it says the file is not valid JSON', (_what, text) => {
    expect(reason(parseEvent(text))).toBe('is not valid JSON');
  });

  it('given a newer format version, it asks for an upgrade instead of guessing', () => {
    const r = parseEvent(JSON.stringify({ ...message, v: FORMAT_VERSION + 1, body: 42, extra: true }));
    expect(reason(r)).toBe(`has format version ${FORMAT_VERSION + 1}; upgrade claude-relay to read it`);
  });

  it('given version 0, it is not a valid event (v)', () => {
    expect(reason(parseEvent(JSON.stringify({ ...message, v: 0 })))).toMatch(/^is not a valid event \(v: /);
  });

  it('given a version that is a string, it is not a valid event', () => {
    expect(reason(parseEvent(JSON.stringify({ ...message, v: '2' })))).toMatch(/^is not a valid event \(v: /);
  });

  it('given an unknown kind, it is not a valid event (kind)', () => {
    expect(reason(parseEvent(JSON.stringify({ ...message, kind: 'deleted' })))).toMatch(
      /^is not a valid event \(kind: /,
    );
  });

  it.each([
    ['a missing body', { body: undefined }, 'body'],
    ['a from that is a path', { from: '../x' }, 'from'],
    ['a to that is not a name', { to: 'a b' }, 'to'],
    ['a key in another shape', { key: 'abc' }, 'key'],
    ['a stamp in another shape', { at: '2024-01-01' }, 'at'],
    ['an unknown type', { type: 'command' }, 'type'],
    ['a negative ttl', { ttlMs: -1 }, 'ttlMs'],
    ['a fractional sentAt', { sentAt: 1.5 }, 'sentAt'],
  ])('given a sent event with %s, it names the field', (_what, change, field) => {
    const r = parseEvent(JSON.stringify({ ...message, ...change }));
    expect(reason(r)).toMatch(new RegExp(`^is not a valid event \\(${field}: `));
  });

  it.each([
    ['null', 'null'],
    ['a number', '7'],
    ['a string', '"sent"'],
    ['an array', '[1,2]'],
    ['an empty object', '{}'],
  ])('given %s, it is refused without throwing', (_what, text) => {
    expect(reason(parseEvent(text))).toMatch(/^is not a valid event \(/);
  });

  it('given an extra field on a v1 event, it reads the event and drops the field', () => {
    const r = parseEvent(JSON.stringify({ ...message, future: 'x' }));
    expect(r).toEqual({ ok: true, event: message });
  });

  it('property: any JSON value that is not an event is refused, never thrown', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = parseEvent(JSON.stringify(value));
        expect(r.ok).toBe(false);
      }),
    );
  });

  it('property: any text at all is answered, never thrown', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(typeof parseEvent(text).ok).toBe('boolean');
      }),
    );
  });
});

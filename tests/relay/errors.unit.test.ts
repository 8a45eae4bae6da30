import { describe, expect, it } from 'vitest';
import { fsError, isRelayError, RelayError, shorten } from '../../src/errors.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something failed`), { code });
}

describe('INV-BAD-INPUT: errors that say what to do', () => {
  it('a RelayError carries its code, its retry time and its cause', () => {
    const cause = new Error('low level');
    const e = new RelayError('rate_limited', 'wait', { cause, retryAfter: 7 });
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, e.retryAfter, e.cause]).toEqual(['RelayError', 'rate_limited', 7, cause]);
    expect(isRelayError(e)).toBe(true);
    expect(isRelayError(new Error('x'))).toBe(false);
    expect(isRelayError({ code: 'bad_name' })).toBe(false);
  });

  it.each(['ENOSPC', 'EDQUOT'])('given %s, it is disk_full and says nothing was lost', (code) => {
    const e = fsError(errno(code), 'writing x.json', '/r');
    expect(e.code).toBe('disk_full');
    expect(e.message).toBe(
      'The disk holding /r is full while writing x.json; free some space and try again (nothing was lost).',
    );
  });

  it.each(['EACCES', 'EPERM', 'EROFS'])(
    'given %s, it is store_unwritable and points at RELAY_HOME',
    (code) => {
      const e = fsError(errno(code), 'writing x.json', '/r');
      expect(e.code).toBe('store_unwritable');
      expect(e.message).toBe(
        `Cannot write to /r (${code}) while writing x.json; fix its permissions or set RELAY_HOME to a writable directory.`,
      );
    },
  );

  it('given any other failure, it keeps the detail and the cause', () => {
    const cause = errno('ENOTDIR');
    const e = fsError(cause, 'listing a directory', '/r');
    expect(e.code).toBe('store_unwritable');
    expect(e.message).toBe(
      'The relay store at /r failed while listing a directory (ENOTDIR: something failed); check the directory, then try again.',
    );
    expect(e.cause).toBe(cause);
  });

  it('shorten keeps short values whole and cuts long ones to the limit', () => {
    expect(shorten('api')).toBe('"api"');
    const long = shorten('x'.repeat(1_000_000));
    expect(long.length).toBe(40);
    expect(long.endsWith('…"')).toBe(true);
    expect(shorten('a\nb')).toBe('"a\\nb"');
  });
});

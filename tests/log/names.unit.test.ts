import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../src/errors.js';
import { isValidName, NAME_PATTERN, toName, validateName } from '../../src/log/names.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('INV-CONFINED: session and machine names', () => {
  it.each([
    'api',
    'server-2',
    'a',
    '0',
    'A.b_c-d',
    'my.project',
    'CONSOLE',
    'nullable',
    'con-1',
    'com10',
    'a'.repeat(128),
  ])('given %j, it is a valid name', (name) => {
    expect(isValidName(name)).toBe(true);
    expect(validateName(name)).toBe(name);
  });

  it.each([
    ['empty', ''],
    ['leading dash', '-api'],
    ['leading dot', '.hidden'],
    ['leading underscore', '_x'],
    ['dot', '.'],
    ['dot dot', '..'],
    ['traversal', '../x'],
    ['traversal inside', 'a/../../etc'],
    ['slash', 'a/b'],
    ['backslash', 'a\\b'],
    ['absolute', '/etc'],
    ['space', 'a b'],
    ['newline', 'api\n'],
    ['NUL byte', 'a\0b'],
    ['non-ASCII', 'café'],
    ['129 chars', 'a'.repeat(129)],
  ])('given a name with %s, it is refused', (_what, name) => {
    expect(isValidName(name)).toBe(false);
  });

  it.each([
    'CON',
    'con',
    'Con',
    'PRN',
    'AUX',
    'NUL',
    'nul.txt',
    'NUL.tar.gz',
    'COM1',
    'com9',
    'COM0',
    'LPT1',
    'lpt3.log',
  ])('given the Windows device name %j, it is refused', (name) => {
    expect(NAME_PATTERN.test(name)).toBe(true);
    expect(isValidName(name)).toBe(false);
  });

  it('when validation fails, then the error says what was expected and shows the value', () => {
    const e = thrown(() => validateName('../x', 'to'));
    expect(isRelayError(e) && e.code).toBe('bad_name');
    expect((e as Error).message).toBe(
      'Expected `to` to be a session name like "api" or "server-2" (letters, digits, . _ -, at most 128, not a device name such as CON), got "../x".',
    );
  });

  it('when the value is not a string, then it is refused with bad_name', () => {
    for (const value of [undefined, null, 5, {}, ['api']]) {
      const e = thrown(() => validateName(value));
      expect(isRelayError(e) && e.code).toBe('bad_name');
    }
  });

  it('when the value is huge, then the error message stays short', () => {
    const e = thrown(() => validateName('x'.repeat(1_000_000)));
    expect((e as Error).message.length).toBeLessThan(250);
  });

  it('given a device name spelled with a superscript digit, it is refused too', () => {
    expect(isValidName('COM¹')).toBe(false);
  });

  it('property: a name is valid exactly when it matches the pattern and is no device name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), (s) => {
        const device = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i.test(s);
        expect(isValidName(s)).toBe(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/.test(s) && !device);
      }),
    );
  });
});

describe('toName: a valid name from any directory or host name', () => {
  it.each([
    ['My Project!', 'My-Project'],
    ['', 'session'],
    ['...', 'session'],
    ['---x', 'x'],
    ['api-', 'api'],
    ['ünïcödé', 'n-c-d'],
    ['CON', 'CON-session'],
    ['nul.txt', 'nul-txt-session'],
    ['com1.', 'com1-session'],
    ['host.example.com', 'host.example.com'],
    ['a'.repeat(200), 'a'.repeat(128)],
  ])('given %j, it gives %j', (raw, name) => {
    expect(toName(raw)).toBe(name);
  });

  it('given nothing usable, it gives the fallback', () => {
    expect(toName('///', 'localhost')).toBe('localhost');
  });

  it('property: the result is always a valid name', () => {
    const raw = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc
        .tuple(fc.constantFrom('CON', 'nul', 'Com1', 'lpt9', 'aux'), fc.string({ maxLength: 150 }))
        .map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(raw, (s) => {
        expect(isValidName(toName(s))).toBe(true);
      }),
    );
  });

  it('property: a valid name that does not end in - or . is kept as it is', () => {
    const valid = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,126}[a-zA-Z0-9_]$/).filter(isValidName);
    fc.assert(
      fc.property(valid, (name) => {
        expect(toName(name)).toBe(name);
      }),
    );
  });
});

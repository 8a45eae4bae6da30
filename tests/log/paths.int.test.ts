import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRelayError } from '../../src/errors.js';
import { type Area, defaultRoot, StorePaths } from '../../src/log/paths.js';
import { cleanStore } from '../../src/relay/clean.js';
import { pollInbox } from '../../src/relay/poll.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext, RelaySession } from '../../src/relay/serve-session.js';
import { filesUnder, ManualClock, makeTempDir, testConfig } from '../support/home.js';

let parent = '';
let root = '';
beforeEach(async () => {
  parent = await makeTempDir('relay-paths-');
  root = path.join(parent, 'home');
});
afterEach(async () => {
  await fs.rm(parent, { recursive: true, force: true });
});

const AREAS: Area[] = [
  'inbox',
  'settled',
  'archive',
  'sent',
  'sessions',
  'snapshots',
  'quarantine',
  'tmp',
  'claims',
  'outbox',
  'forwarded',
];

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!isRelayError(e)) throw e;
    return e.code;
  }
}

describe('INV-CONFINED: every path comes from StorePaths and stays inside the root', () => {
  it('builds area, inbox and file paths under the root', () => {
    const p = new StorePaths(root);
    expect(p.dir('tmp')).toBe(path.join(root, 'tmp'));
    expect(p.dir('inbox', 'bob')).toBe(path.join(root, 'inbox', 'bob'));
    expect(p.file('settled', 'bob', 'k.json')).toBe(path.join(root, 'settled', 'bob', 'k.json'));
    expect(p.file('tmp', undefined, 'x.tmp')).toBe(path.join(root, 'tmp', 'x.tmp'));
  });

  it('resolves a relative root to an absolute one', () => {
    expect(new StorePaths('rel/home').root).toBe(path.resolve('rel/home'));
  });

  it.each(['../x', '..', 'a/b', '/etc', 'CON', '', 'a'.repeat(129)])(
    'refuses the name %j with bad_name',
    (name) => {
      expect(codeOf(() => new StorePaths(root).dir('inbox', name))).toBe('bad_name');
    },
  );

  it.each(['../x.json', '..', 'a/b.json', '/etc/passwd', '.hidden', '', 'x'.repeat(202)])(
    'refuses the file name %j with outside_root',
    (file) => {
      expect(codeOf(() => new StorePaths(root).file('inbox', 'bob', file))).toBe('outside_root');
    },
  );

  it('property: any name and file either is refused or resolves inside the root', () => {
    const p = new StorePaths(root);
    const part = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('..', '.', '../..', '/', 'a/../..', '..\\..', 'bob', 'k.json'),
    );
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.constantFrom(...AREAS), part, part, (area, name, file) => {
        let built: string;
        try {
          built = p.file(area, name, file);
        } catch (e) {
          expect(isRelayError(e)).toBe(true);
          refused++;
          return;
        }
        accepted++;
        const rel = path.relative(root, built);
        expect(rel.startsWith('..') || path.isAbsolute(rel)).toBe(false);
        expect(rel.split(path.sep)).toEqual([area, name, file]);
      }),
    );
    expect(refused).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
  });

  it('defaultRoot is RELAY_HOME, resolved, or ~/.claude-relay when unset or empty', () => {
    expect(defaultRoot({ RELAY_HOME: root })).toBe(root);
    expect(defaultRoot({ RELAY_HOME: 'x/../y' })).toBe(path.resolve('y'));
    expect(defaultRoot({})).toBe(path.join(os.homedir(), '.claude-relay'));
    expect(defaultRoot({ RELAY_HOME: '' })).toBe(path.join(os.homedir(), '.claude-relay'));
  });

  it('given a whole relay life (join, send, poll, bad names, clean, stop), then nothing is written outside the root', async () => {
    const clock = new ManualClock();
    const options = { config: testConfig(root), now: clock.now, isPidAlive: () => true };
    const bob = await RelaySession.start({ ...options, name: 'bob' });
    const alice = await RelaySession.start({ ...options, name: 'alice' });
    await alice.send({ to: 'bob', message: 'hi' });
    for (const to of ['../escape', '../../etc', '/tmp/x', 'a/b']) {
      const e = await alice.send({ to, message: 'x' }).catch((x: unknown) => x);
      expect(isRelayError(e) && e.code).toBe('bad_name');
    }
    const cli = createContext({ ...options, name: 'cli' });
    const e = await pollInbox(cli, { via: 'cli', name: '../home' }).catch((x: unknown) => x);
    expect(isRelayError(e) && e.code).toBe('bad_name');
    await sendMessage(cli, { to: 'alice', message: 'x' });
    await bob.poll({ via: 'poll' });
    clock.advance(3 * 60_000);
    await cleanStore(cli);
    await bob.stop();
    await alice.stop();
    expect(await fs.readdir(parent)).toEqual(['home']);
    const inside = await filesUnder(root);
    expect(inside.length).toBeGreaterThan(0);
    expect(inside.every((f) => AREAS.includes(f.split('/')[0] as Area))).toBe(true);
  });
});

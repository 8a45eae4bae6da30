import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../src/errors.js';
import { pollInbox } from '../../src/relay/poll.js';
import { sendMessage } from '../../src/relay/send.js';
import { RelaySession } from '../../src/relay/serve-session.js';
import { filesUnder, refusal, testConfig, useHome } from '../support/home.js';

const home = useHome();

/**
 * Tests run as root, so chmod cannot make a directory unwritable; a regular file where `tmp/` should be
 * makes every write fail with ENOTDIR instead.
 */
async function breakTmp(): Promise<string> {
  const tmp = path.join(home.root, 'tmp');
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.writeFile(tmp, 'not a directory');
  return tmp;
}

async function fixTmp(): Promise<void> {
  await fs.rm(path.join(home.root, 'tmp'));
  await fs.mkdir(path.join(home.root, 'tmp'));
}

describe('INV-BAD-INPUT: an unwritable store gives an error that says what to do, and loses nothing', () => {
  it('given tmp/ is not a directory, when alice sends, then a RelayError names the store and nothing is half-written', async () => {
    await home.start('bob');
    const alice = home.context('alice');
    await sendMessage(alice, { to: 'bob', message: 'before' });
    await breakTmp();
    const e = await refusal(sendMessage(alice, { to: 'bob', message: 'during' }));
    expect(e.code).toBe('store_unwritable');
    expect(e.message).toMatch(
      /^The relay store at .+ failed while writing \S+\.json \(ENOTDIR: .*\); check the directory, then try again\.$/,
    );
    expect(e.message).toContain(home.root);
    expect(await fs.readdir(path.join(home.root, 'inbox', 'bob'))).toHaveLength(1);
    expect(await alice.store.sentKeys('alice')).toHaveLength(1);
    await fixTmp();
    await sendMessage(alice, { to: 'bob', message: 'after' });
    const got = await pollInbox(home.context('bob'), { via: 'poll' });
    expect(got.messages.map((m) => m.body)).toEqual(['before', 'after']);
  });

  it('given the store breaks mid-poll, then the poll fails and the message is still there afterwards', async () => {
    await home.start('bob');
    await sendMessage(home.context('alice'), { to: 'bob', message: 'keep me' });
    await breakTmp();
    const e = await refusal(pollInbox(home.context('bob'), { via: 'poll' }));
    expect(e.code).toBe('store_unwritable');
    expect(await filesUnder(path.join(home.root, 'settled'))).toEqual([]);
    await fixTmp();
    const got = await pollInbox(home.context('bob'), { via: 'poll' });
    expect(got.messages.map((m) => m.body)).toEqual(['keep me']);
  });

  it('given the root is a regular file, when a session starts, then it fails with a RelayError', async () => {
    const root = path.join(home.root, 'relay-home');
    await fs.writeFile(root, 'oops');
    const e = await refusal(
      RelaySession.start({ config: testConfig(root), name: 'api', isPidAlive: () => true }),
    );
    expect(e.code).toBe('store_unwritable');
    expect(e.message).toContain(root);
    expect(e.message).toMatch(/ENOTDIR/);
  });

  it('given a heartbeat cannot be written, then the session reports it and keeps running', async () => {
    const api = await home.start('api');
    await breakTmp();
    await api.heartbeat();
    expect(home.errors).toHaveLength(1);
    expect(isRelayError(home.errors[0]) && home.errors[0].code).toBe('store_unwritable');
    await fixTmp();
    await api.heartbeat();
    expect(home.errors).toHaveLength(1);
    expect((await api.sessions()).map((s) => s.name)).toEqual(['api']);
  });
});

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../src/errors.js';
import { cleanStore } from '../../src/relay/clean.js';
import { listLiveSessions, readSessions } from '../../src/relay/live-sessions.js';
import { pollInbox } from '../../src/relay/poll.js';
import { sendMessage } from '../../src/relay/send.js';
import { readStatus } from '../../src/relay/status.js';
import { filesUnder, makeTempDir, T0, useHome } from '../support/home.js';

/**
 * INV-CONFINED against a hostile store: a symbolic link planted in any folder of RELAY_HOME, pointing at a
 * folder or file outside it that holds a secret, is never followed. Each case checks that nothing outside
 * was read (the secret shows nowhere), written, moved or listed (the outside tree is byte for byte as it was).
 */

const home = useHome();
const SECRET = 'SECRET_a1b2c3';

/** An outside folder holding a file with the secret; `tree` is its names and contents. */
async function outside(): Promise<{ dir: string; tree: () => Promise<string> }> {
  const dir = await makeTempDir('relay-outside-');
  await fs.writeFile(path.join(dir, 'secret.json'), JSON.stringify({ secret: SECRET }));
  const tree = async () => {
    const files = await filesUnder(dir);
    const contents = await Promise.all(files.map((f) => fs.readFile(path.join(dir, f), 'utf8')));
    return JSON.stringify(files.map((f, i) => [f, contents[i]]));
  };
  return { dir, tree };
}

/** A valid sent event for `to` whose body is the secret, as a planted file outside would hold it. */
function secretEvent(to: string, n = 1): { key: string; text: string } {
  const key = `${T0 - 1000}-${String(n).padStart(8, '0')}-zzzzz${n}`;
  const event = {
    v: 1,
    kind: 'sent',
    key,
    id: `zzzzz${n}`,
    at: key.slice(0, 22),
    sentAt: T0 - 1000,
    from: 'mallory',
    machine: 'box',
    to,
    type: 'info',
    body: SECRET,
    ttlMs: 86_400_000,
  };
  return { key, text: JSON.stringify(event) };
}

async function plant(rel: string, target: string): Promise<void> {
  const at = path.join(home.root, rel);
  await fs.rm(at, { recursive: true, force: true });
  await fs.mkdir(path.dirname(at), { recursive: true });
  await fs.symlink(target, at);
}

/** The refusal a promise rejects with: coded, one sentence, naming the link and what to do. */
async function refused(p: Promise<unknown>, link: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isRelayError(e) && e.code).toBe('outside_root');
  expect((e as Error).message).toContain(path.join(home.root, link));
  expect((e as Error).message).toMatch(/symbolic link .* replace it with a real folder or remove it\.$/);
}

describe('INV-CONFINED: a symbolic link inside the store is never followed', () => {
  it('inbox/<name> linked outside (planted after the first send): sends, polls and clean stay inside', async () => {
    const out = await outside();
    const secret = secretEvent('victim');
    await fs.writeFile(path.join(out.dir, `${secret.key}.json`), secret.text);
    const before = await out.tree();
    const alice = home.context('alice');
    await home.start('victim');
    await sendMessage(alice, { to: 'victim', message: 'first' });
    await plant('inbox/victim', out.dir);

    await refused(sendMessage(alice, { to: 'victim', message: 'second' }), 'inbox/victim');
    await refused(pollInbox(home.context('victim'), { via: 'poll' }), 'inbox/victim');
    const status = await readStatus(home.context('cli'));
    expect(JSON.stringify(status)).not.toContain(SECRET);
    const report = await cleanStore(home.context('cli'));

    expect(report.quarantined).toContain(path.join(home.root, 'quarantine/inbox/victim'));
    expect(await out.tree()).toBe(before);
    for (const f of await filesUnder(home.root)) {
      const st = await fs.lstat(path.join(home.root, f));
      if (st.isFile()) expect(await fs.readFile(path.join(home.root, f), 'utf8')).not.toContain(SECRET);
    }
  });

  it.each(['settled', 'archive'])('%s/<name> linked outside: a poll writes nothing outside', async (area) => {
    const out = await outside();
    const before = await out.tree();
    await home.start('bob');
    await sendMessage(home.context('alice'), { to: 'bob', message: 'hello' });
    await plant(`${area}/bob`, out.dir);

    await refused(pollInbox(home.context('bob'), { via: 'poll' }), `${area}/bob`);

    expect(await out.tree()).toBe(before);
  });

  it('sessions/<name> linked outside: not listed, and clean writes nothing into it', async () => {
    const out = await outside();
    const beat = {
      v: 1,
      kind: 'heartbeat',
      name: 'ghost',
      instance: 'aaaaaaaa',
      at: `${T0}-00000000`,
      atMs: T0,
      pid: process.pid,
      cwd: `/home/${SECRET}`,
      machine: 'box',
      startedAt: T0,
      joined: `${T0}-00000000`,
    };
    await fs.writeFile(path.join(out.dir, `${T0}-00000000-aaaaaaaa.json`), JSON.stringify(beat));
    const before = await out.tree();
    await home.start('bob');
    await plant('sessions/ghost', out.dir);

    const live = await listLiveSessions(home.context('bob'));
    expect(live.map((s) => s.name)).toEqual(['bob']);
    expect(JSON.stringify([...(await readSessions(home.context('bob'))).keys()])).not.toContain('ghost');
    expect(home.problems.map((p) => p.file)).toContain(path.join(home.root, 'sessions/ghost'));
    home.clock.advance(3_600_000);
    await cleanStore(home.context('cli'));

    expect(await out.tree()).toBe(before);
  });

  it('an event file linked to an outside file: its content is never returned', async () => {
    const out = await outside();
    const secret = secretEvent('bob');
    await fs.writeFile(path.join(out.dir, 'event.json'), secret.text);
    const before = await out.tree();
    await home.start('bob');
    await sendMessage(home.context('alice'), { to: 'bob', message: 'real mail' });
    await plant(`inbox/bob/${secret.key}.json`, path.join(out.dir, 'event.json'));

    const got = await pollInbox(home.context('bob'), { via: 'poll' });

    expect(got.messages.map((m) => m.body)).toEqual(['real mail']);
    expect(home.problems.find((p) => p.file.endsWith(`${secret.key}.json`))?.reason).toMatch(/symbolic link/);
    await cleanStore(home.context('cli'));
    expect(await out.tree()).toBe(before);
  });

  it.each([
    ['tmp', 'tmp'],
    ['sent/<from>', 'sent/alice'],
  ])('%s linked outside: a send is refused and writes nothing outside', async (_, rel) => {
    const out = await outside();
    const before = await out.tree();
    await home.start('bob');
    await plant(rel, out.dir);

    await refused(sendMessage(home.context('alice'), { to: 'bob', message: `body ${SECRET}` }), rel);

    expect(await out.tree()).toBe(before);
  });

  it.each(['snapshots', 'quarantine'])(
    '%s linked outside: clean is refused and writes nothing outside',
    async (area) => {
      const out = await outside();
      const before = await out.tree();
      await home.start('bob');
      await fs.mkdir(path.join(home.root, 'inbox/bob'), { recursive: true });
      await fs.writeFile(path.join(home.root, 'inbox/bob/corrupt.json'), '{');
      await plant(area, out.dir);

      await refused(cleanStore(home.context('cli')), area);

      expect(await out.tree()).toBe(before);
    },
  );

  it('claims/<name> linked outside: joining that name is refused, nothing written outside', async () => {
    const out = await outside();
    const before = await out.tree();
    await plant('claims/bob', out.dir);

    await refused(home.start('bob'), 'claims/bob');

    expect(await out.tree()).toBe(before);
  });

  it('leases/<name> linked outside: a poll is refused, nothing written or listed outside', async () => {
    const out = await outside();
    await fs.writeFile(path.join(out.dir, `${secretEvent('bob').key}.1.json`), '{}');
    const before = await out.tree();
    await home.start('bob');
    await sendMessage(home.context('alice'), { to: 'bob', message: 'hello' });
    await plant('leases/bob', out.dir);

    await refused(pollInbox(home.context('bob'), { via: 'poll' }), 'leases/bob');

    expect(await out.tree()).toBe(before);
  });

  it('outbox/<from> linked outside: its entries are not read, listed or removed', async () => {
    const out = await outside();
    const before = await out.tree();
    const ctx = home.context('alice');
    await plant('outbox/alice', out.dir);

    expect(await ctx.store.outbox.pending()).toEqual([]);
    expect(home.problems.map((p) => p.file)).toContain(path.join(home.root, 'outbox/alice'));
    expect(await out.tree()).toBe(before);
  });
});

import { promises as fs } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pollInbox } from '../../src/relay/poll.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext } from '../../src/relay/serve-session.js';
import { readStatus } from '../../src/relay/status.js';
import { ManualClock, makeTempDir, readJson, refusal, testConfig, useHome } from '../support/home.js';

const home = useHome();

describe('INV-LIMITS: the rate limit is counted from the log', () => {
  it('given 60 sends this minute, then the 61st is refused with the wait and nothing is written', async () => {
    await home.start('bob');
    const alice = home.context('alice');
    for (let i = 0; i < 60; i++) await sendMessage(alice, { to: 'bob', message: `m${i}` });
    home.clock.advance(15_000);
    const e = await refusal(sendMessage(alice, { to: 'bob', message: 'one too many' }));
    expect([e.code, e.retryAfter]).toEqual(['rate_limited', 45]);
    expect(await fs.readdir(`${home.root}/inbox/bob`)).toHaveLength(60);
  });

  it('given a restart (a new context, same name, same root), then the limit still holds', async () => {
    await home.start('bob');
    const before = home.context('alice');
    for (let i = 0; i < 60; i++) await sendMessage(before, { to: 'bob', message: `m${i}` });
    const restarted = home.context('alice');
    expect((await refusal(sendMessage(restarted, { to: 'bob', message: 'reset?' }))).code).toBe(
      'rate_limited',
    );
    home.clock.advance(60_000);
    await sendMessage(restarted, { to: 'bob', message: 'now' });
    expect(await fs.readdir(`${home.root}/inbox/bob`)).toHaveLength(61);
  });

  it('given two live processes sending as one name, then each counts the other’s sends', async () => {
    await home.start('bob');
    const first = home.context('alice');
    const second = home.context('alice');
    // Both have read (and keep) alice's index before the other writes to it.
    await sendMessage(first, { to: 'bob', message: 'warm first' });
    await sendMessage(second, { to: 'bob', message: 'warm second' });
    for (let i = 0; i < 29; i++) await sendMessage(first, { to: 'bob', message: `a${i}` });
    for (let i = 0; i < 29; i++) await sendMessage(second, { to: 'bob', message: `b${i}` });
    expect((await refusal(sendMessage(first, { to: 'bob', message: 'over' }))).code).toBe('rate_limited');
    expect((await refusal(sendMessage(second, { to: 'bob', message: 'over' }))).code).toBe('rate_limited');
  });

  it('given the wall clock steps back after 60 sends, then the limit still holds', async () => {
    await home.start('bob');
    const alice = home.context('alice');
    for (let i = 0; i < 60; i++) await sendMessage(alice, { to: 'bob', message: `m${i}` });
    home.clock.advance(-30_000);
    expect((await refusal(sendMessage(home.context('alice'), { to: 'bob', message: 'x' }))).code).toBe(
      'rate_limited',
    );
  });

  it('is per sender name: another sender is not limited by alice', async () => {
    await home.start('bob');
    const alice = home.context('alice');
    for (let i = 0; i < 60; i++) await sendMessage(alice, { to: 'bob', message: `m${i}` });
    await sendMessage(home.context('carol'), { to: 'bob', message: 'fine' });
    expect(await fs.readdir(`${home.root}/inbox/bob`)).toHaveLength(61);
  });

  it('counts a broadcast once, however many copies it writes', async () => {
    home.limits = { sendsPerMinute: 2 };
    const alice = await home.start('alice');
    await home.start('bob');
    await home.start('carol');
    await alice.broadcast({ message: 'one' });
    await alice.broadcast({ message: 'two' });
    expect((await refusal(alice.broadcast({ message: 'three' }))).code).toBe('rate_limited');
    expect(
      (await fs.readdir(`${home.root}/inbox/bob`)).length +
        (await fs.readdir(`${home.root}/inbox/carol`)).length,
    ).toBe(4);
  });
});

describe('INV-LIMITS: the body limit at the use-case', () => {
  it('given 1,000,000 bytes of multibyte text, then it is sent and read back whole', async () => {
    const bob = await home.start('bob');
    const body = `${'€'.repeat(333_333)}a`;
    await sendMessage(home.context('alice'), { to: 'bob', message: body });
    const got = await bob.poll({ via: 'poll' });
    expect(got.messages[0]?.body).toBe(body);
  });

  it('given 1,000,001 bytes, then it is refused as too_large and nothing is written', async () => {
    await home.start('bob');
    const e = await refusal(
      sendMessage(home.context('alice'), { to: 'bob', message: `${'é'.repeat(500_000)}!` }),
    );
    expect(e.code).toBe('too_large');
    await expect(fs.readdir(`${home.root}/inbox/bob`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('INV-LIMITS: a message past its TTL is settled as expired, never returned', () => {
  it('given the TTL ran out, when bob polls, then it is expired, archived and counted', async () => {
    home.limits = { ttlMs: 1_000 };
    const bob = await home.start('bob');
    const { event: stale } = await sendMessage(home.context('alice'), { to: 'bob', message: 'old' });
    home.clock.advance(999);
    const { event: fresh } = await sendMessage(home.context('alice'), { to: 'bob', message: 'new' });
    home.clock.advance(1);
    const got = await bob.poll({ via: 'poll' });
    expect([got.messages.map((m) => m.body), got.expired]).toEqual([['new'], 1]);
    expect(await readJson(`${home.root}/settled/bob/${stale.key}.json`)).toEqual({
      v: 1,
      kind: 'expired',
      key: stale.key,
      to: 'bob',
      atMs: home.clock.now(),
      reason: 'ttl',
    });
    expect((await fs.readdir(`${home.root}/archive/bob`)).sort()).toEqual([
      `${stale.key}.json`,
      `${fresh.key}.json`,
    ]);
    const status = await readStatus(bob.ctx);
    expect(status.inboxes).toEqual([{ name: 'bob', queued: 0, delivered: 1, expired: 1 }]);
    expect((await bob.poll({ via: 'poll' })).messages).toEqual([]);
  });

  it('property: a message is delivered before its TTL and expired from it on, never both', async () => {
    const seen = { delivered: 0, expired: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5_000 }),
        fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 8_000 }),
        async (ttlMs, gaps, wait) => {
          const root = await makeTempDir('relay-ttl-');
          try {
            const clock = new ManualClock();
            const ctx = (name: string) =>
              createContext({ config: testConfig(root, { ttlMs }), name, now: clock.now });
            await fs.mkdir(`${root}/sessions/bob`, { recursive: true });
            const sentAt: number[] = [];
            for (const gap of gaps) {
              clock.advance(gap);
              await sendMessage(ctx('alice'), { to: 'bob', message: `at ${clock.now()}` });
              sentAt.push(clock.now());
            }
            clock.advance(wait);
            const r = await pollInbox(ctx('bob'), { via: 'poll' });
            const live = sentAt.filter((t) => clock.now() < t + ttlMs).map((t) => `at ${t}`);
            expect(r.messages.map((m) => m.body)).toEqual(live);
            expect(r.expired).toBe(sentAt.length - live.length);
            const outcomes = await Promise.all(
              (await fs.readdir(`${root}/settled/bob`)).map(
                async (f) => (await readJson(`${root}/settled/bob/${f}`)) as { kind: string },
              ),
            );
            expect(outcomes.filter((o) => o.kind === 'expired')).toHaveLength(r.expired);
            expect(outcomes).toHaveLength(sentAt.length);
            seen.delivered += live.length;
            seen.expired += r.expired;
          } finally {
            await fs.rm(root, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 30 },
    );
    expect(seen.delivered).toBeGreaterThan(0);
    expect(seen.expired).toBeGreaterThan(0);
  });
});

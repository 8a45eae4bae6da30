import { describe, expect, it } from 'vitest';
import { cleanStore } from '../../src/relay/clean.js';
import { pollInbox } from '../../src/relay/poll.js';
import { sendMessage } from '../../src/relay/send.js';
import { useHome } from '../support/home.js';

const home = useHome();

async function bodiesFor(name: string): Promise<string[]> {
  const r = await pollInbox(home.context(name), { via: 'poll' });
  return r.messages.map((m) => m.body);
}

const range = (n: number, prefix = '') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('INV-ORDER: per-sender delivery order is send order', () => {
  it('given a frozen clock, when 200 sends land in one ms, then bob polls them in send order', async () => {
    home.limits = { sendsPerMinute: 1_000 };
    await home.start('bob');
    const alice = home.context('alice');
    for (const body of range(200)) await sendMessage(alice, { to: 'bob', message: body });
    const keys = await alice.store.inboxKeys('bob');
    expect(new Set(keys.map((k) => k.slice(0, 13)))).toEqual(new Set([String(home.clock.now())]));
    expect(await bodiesFor('bob')).toEqual(range(200));
  });

  it('given concurrent calls (MCP handlers), when they are all in flight at once, then order is call order', async () => {
    await home.start('bob');
    home.limits = { sendsPerMinute: 1_000 };
    const alice = await home.start('alice');
    const sends = range(200).map((body) => alice.send({ to: 'bob', message: body }));
    await Promise.all(sends);
    expect(await bodiesFor('bob')).toEqual(range(200));
  });

  it('given the first call is slow to look up sessions, then a second call still cannot overtake it', async () => {
    await home.start('bob');
    const alice = await home.start('alice');
    const { store, sends } = alice.ctx;
    // Hold the first session look-up until the second call has entered the send queue: if the queue slot
    // were taken only after the look-up, the second message would be appended first.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const lookUp = store.latestSessionEvents.bind(store);
    let lookUps = 0;
    let holding = false;
    store.latestSessionEvents = async () => {
      if (lookUps++ === 0) {
        holding = true;
        await held;
      }
      return lookUp();
    };
    const run = sends.run.bind(sends);
    let queued = 0;
    sends.run = (task) => {
      // Released once another call has queued (or queues while the first is held): never a deadlock.
      if (++queued === 2 || holding) release();
      return run(task);
    };
    await Promise.all([
      alice.send({ to: 'bob', message: 'first' }),
      alice.send({ to: 'bob', message: 'second' }),
    ]);
    expect(queued).toBe(2);
    expect(await bodiesFor('bob')).toEqual(['first', 'second']);
  });

  it('given concurrent sends and broadcasts, then each recipient sees them in call order', async () => {
    await home.start('bob');
    await home.start('carol');
    const alice = await home.start('alice');
    const calls = range(20).map((body, i) =>
      i % 3 === 0 ? alice.broadcast({ message: body }) : alice.send({ to: 'bob', message: body }),
    );
    await Promise.all(calls);
    expect(await bodiesFor('bob')).toEqual(range(20));
    expect(await bodiesFor('carol')).toEqual(range(20).filter((_, i) => i % 3 === 0));
  });

  it('given the wall clock steps back an hour mid-stream, then later sends still come after', async () => {
    await home.start('bob');
    const alice = home.context('alice');
    for (const body of range(5, 'a')) await sendMessage(alice, { to: 'bob', message: body });
    home.clock.advance(-3_600_000);
    for (const body of range(5, 'b')) await sendMessage(alice, { to: 'bob', message: body });
    expect(await bodiesFor('bob')).toEqual([...range(5, 'a'), ...range(5, 'b')]);
  });

  it('given a restart of the sender with its clock an hour back, then its new sends come after the old', async () => {
    await home.start('bob');
    const before = home.context('alice');
    for (const body of range(3, 'old')) await sendMessage(before, { to: 'bob', message: body });
    home.clock.advance(-3_600_000);
    const after = home.context('alice');
    for (const body of range(3, 'new')) await sendMessage(after, { to: 'bob', message: body });
    expect(await bodiesFor('bob')).toEqual([...range(3, 'old'), ...range(3, 'new')]);
  });

  it('given a restart after clean pruned the send index, then the kept newest link still orders it', async () => {
    await home.start('bob');
    const before = home.context('alice');
    for (const body of range(4, 'old')) await sendMessage(before, { to: 'bob', message: body });
    home.clock.advance(2 * 60_000);
    await cleanStore(home.context('cli'));
    expect(await before.store.sentKeys('alice')).toHaveLength(1);
    home.clock.advance(-3_600_000);
    const after = home.context('alice');
    await sendMessage(after, { to: 'bob', message: 'new' });
    expect(await bodiesFor('bob')).toEqual([...range(4, 'old'), 'new']);
  });

  it('given two senders interleaving, then each one keeps its own order', async () => {
    await home.start('bob');
    const alice = home.context('alice');
    const carol = home.context('carol');
    for (let i = 0; i < 10; i++) {
      await sendMessage(i % 2 ? alice : carol, { to: 'bob', message: `${i % 2 ? 'a' : 'c'}${i}` });
      if (i === 4) home.clock.advance(-10_000);
    }
    const got = await pollInbox(home.context('bob'), { via: 'poll' });
    const from = (who: string) => got.messages.filter((m) => m.from === who).map((m) => m.body);
    expect(from('alice')).toEqual(['a1', 'a3', 'a5', 'a7', 'a9']);
    expect(from('carol')).toEqual(['c0', 'c2', 'c4', 'c6', 'c8']);
  });
});

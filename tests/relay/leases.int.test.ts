import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanStore } from '../../src/relay/clean.js';
import { takeInbox } from '../../src/relay/take.js';
import { useHome } from '../support/home.js';

const home = useHome();
const leaseFiles = (to: string) => fs.readdir(path.join(home.root, 'leases', to)).catch(() => [] as string[]);

describe('INV-TAKE: leases', () => {
  it('given a live taker holds a message, when another takes, then it skips it; once the holder commits, nobody gets it', async () => {
    const alice = await home.start('alice');
    await home.start('bob');
    const { event } = await alice.send({ to: 'bob', message: 'once' });
    const first = await takeInbox(home.context('bob'), { via: 'poll' });
    expect(first.messages.map((m) => m.key)).toEqual([event.key]);
    expect((await takeInbox(home.context('bob'), { via: 'poll' })).messages).toEqual([]);
    await first.commit();
    expect(await leaseFiles('bob')).toEqual([]);
    expect((await takeInbox(home.context('bob'), { via: 'poll' })).messages).toEqual([]);
  });

  it('given a lease ran out, when another takes, then it gets the message marked again', async () => {
    const alice = await home.start('alice');
    await home.start('bob');
    const { event } = await alice.send({ to: 'bob', message: 'late' });
    const stuck = await takeInbox(home.context('bob'), { via: 'poll' });
    expect(stuck.messages).toHaveLength(1);
    home.clock.advance(30_001);
    const again = await takeInbox(home.context('bob'), { via: 'poll' });
    expect(again.messages.map((m) => m.key)).toEqual([event.key]);
    expect([...again.again]).toEqual([event.key]);
    await again.commit();
    // The late holder's commit finds the message consumed already: it is not shown a third time.
    await stuck.commit();
    expect((await takeInbox(home.context('bob'), { via: 'poll' })).messages).toEqual([]);
  });

  it('given a release, when the next take comes, then it gets the message unmarked', async () => {
    const alice = await home.start('alice');
    await home.start('bob');
    await alice.send({ to: 'bob', message: 'back' });
    const given = await takeInbox(home.context('bob'), { via: 'poll' });
    await given.release();
    const next = await takeInbox(home.context('bob'), { via: 'poll' });
    expect(next.messages).toHaveLength(1);
    expect(next.again.size).toBe(0);
  });

  it('given a taker died after its commit but before dropping its lease, when clean runs, then the stale lease goes and a live one stays', async () => {
    const alice = await home.start('alice');
    await home.start('bob');
    const { event: done } = await alice.send({ to: 'bob', message: 'done' });
    const taken = await takeInbox(home.context('bob'), { via: 'poll' });
    const store = home.context('bob').store;
    const by = { name: 'bob', machine: 'box', pid: 1, instance: 'deadbeef' };
    expect(
      await store.settle({ v: 1, kind: 'consumed', key: done.key, to: 'bob', atMs: 1, via: 'poll', by }),
    ).toBe(true);
    await store.archive('bob', done.key);
    expect(taken.messages).toHaveLength(1);
    const { event: held } = await alice.send({ to: 'bob', message: 'held' });
    const holding = await takeInbox(home.context('bob'), { via: 'poll' });
    expect(holding.messages.map((m) => m.key)).toEqual([held.key]);
    await cleanStore(home.context('cli'));
    expect(await leaseFiles('bob')).toEqual([`${held.key}.1.json`]);
  });
});

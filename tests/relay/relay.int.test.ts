import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatSent, formatSessions } from '../../src/mcp/format.js';
import { peekInbox, pollInbox } from '../../src/relay/poll.js';
import { type SendInput, sendMessage } from '../../src/relay/send.js';
import { readJson, refusal, useHome } from '../support/home.js';

const home = useHome();

describe('the relay use-cases: send, poll, broadcast, sessions', () => {
  it('given bob is live, when alice sends, then bob polls it once with its id, type and reply_to', async () => {
    const bob = await home.start('bob');
    const alice = await home.start('alice');
    const { event, live } = await alice.send({ to: 'bob', message: 'run the tests?', type: 'request' });
    const reply = await bob.send({ to: 'alice', message: 'green', type: 'response', replyTo: event.id });
    expect(live).toBe(true);
    const got = await bob.poll({ via: 'poll' });
    expect(got).toEqual({ messages: [event], again: new Set(), remaining: 0, expired: 0 });
    expect(event).toMatchObject({
      from: 'alice',
      to: 'bob',
      type: 'request',
      machine: 'box',
      body: 'run the tests?',
    });
    const back = await alice.poll({ via: 'poll' });
    expect(back.messages.map((m) => [m.replyTo, m.type, m.body])).toEqual([[event.id, 'response', 'green']]);
    expect(reply.event.replyTo).toBe(event.id);
  });

  it('records which session, instance and path consumed the message', async () => {
    const bob = await home.start('bob');
    const { event } = await sendMessage(home.context('alice'), { to: 'bob', message: 'hi' });
    await bob.poll({ via: 'long-poll' });
    const outcome = await readJson(`${home.root}/settled/bob/${event.key}.json`);
    expect(outcome).toMatchObject({
      kind: 'consumed',
      key: event.key,
      via: 'long-poll',
      by: { name: 'bob', instance: bob.ctx.me.instance, pid: process.pid, machine: 'box' },
    });
    expect(await fs.readdir(`${home.root}/inbox/bob`)).toEqual([]);
    expect(await fs.readdir(`${home.root}/archive/bob`)).toEqual([`${event.key}.json`]);
  });

  it('given bob has left, when alice sends, then it is queued and says bob is not live', async () => {
    const bob = await home.start('bob');
    await bob.stop();
    const { live } = await sendMessage(home.context('alice'), { to: 'bob', message: 'later' });
    expect(live).toBe(false);
    expect((await pollInbox(home.context('bob'), { via: 'cli' })).messages.map((m) => m.body)).toEqual([
      'later',
    ]);
  });

  it('given no session ever had the name, when alice sends, then it waits for one, with the closest live name', async () => {
    await home.start('bob');
    const sent = await sendMessage(home.context('alice'), { to: 'bobb', message: 'hi' });
    expect(sent.notJoined).toEqual({ closest: 'bob' });
    expect(formatSent(sent.event, sent.live, sent.notJoined)).toBe(
      `Queued #${sent.event.id} for bobb: no session of that name has joined yet (did you mean "bob"?)`,
    );
    const far = await sendMessage(home.context('alice'), { to: 'zed', message: 'hi' });
    expect(far.notJoined).toEqual({ closest: undefined });
    await home.start('bobb');
    expect((await pollInbox(home.context('bobb'), { via: 'cli' })).messages.map((m) => m.body)).toEqual([
      'hi',
    ]);
  });

  it.each([
    [{ to: '../x', message: 'hi' }, 'bad_name'],
    [{ to: 'bob', message: 'hi', type: 'command' }, 'bad_input'],
    [{ to: 'bob', message: 'hi', replyTo: 'not an id' }, 'bad_input'],
    [{ to: 'bob', message: '' }, 'bad_input'],
  ] as [SendInput, string][])('given the bad input %j, it is refused as %s', async (input, code) => {
    await home.start('bob');
    expect((await refusal(sendMessage(home.context('alice'), input))).code).toBe(code);
    expect(await peekInbox(home.context('bob'))).toEqual([]);
  });

  it('given more than fits in one answer, then poll takes what fits and says how many wait', async () => {
    const bob = await home.start('bob');
    const alice = home.context('alice');
    for (const body of ['a'.repeat(150_000), 'b'.repeat(60_000), 'c'])
      await sendMessage(alice, { to: 'bob', message: body });
    const first = await bob.poll({ via: 'poll' });
    expect(first.messages.map((m) => m.body[0])).toEqual(['a']);
    expect(first.remaining).toBe(2);
    const capped = await bob.poll({ via: 'poll', maxMessages: 1 });
    expect([capped.messages.map((m) => m.body[0]), capped.remaining]).toEqual([['b'], 1]);
    expect((await bob.poll({ via: 'poll' })).messages.map((m) => m.body)).toEqual(['c']);
  });

  it('peek shows what waits without taking it', async () => {
    const bob = await home.start('bob');
    await sendMessage(home.context('alice'), { to: 'bob', message: 'look' });
    expect((await peekInbox(bob.ctx)).map((m) => m.body)).toEqual(['look']);
    expect((await bob.poll({ via: 'poll' })).messages.map((m) => m.body)).toEqual(['look']);
    expect(await peekInbox(bob.ctx)).toEqual([]);
  });

  it('given three live sessions, when alice broadcasts, then each other one gets one copy', async () => {
    const alice = await home.start('alice');
    const bob = await home.start('bob');
    const carol = await home.start('carol');
    const copies = await alice.broadcast({ message: 'deploying', type: 'info' });
    expect(copies.map((c) => c.to)).toEqual(['bob', 'carol']);
    expect(new Set(copies.map((c) => c.broadcast)).size).toBe(1);
    expect(copies[0]?.broadcast).toMatch(/^[a-z0-9]{6}$/);
    expect((await bob.poll({ via: 'poll' })).messages.map((m) => m.body)).toEqual(['deploying']);
    expect((await carol.poll({ via: 'poll' })).messages.map((m) => m.body)).toEqual(['deploying']);
    expect((await alice.poll({ via: 'poll' })).messages).toEqual([]);
    expect(await alice.ctx.store.sentKeys('alice')).toHaveLength(1);
  });

  it('given nobody else is live, when alice broadcasts, then nothing is written', async () => {
    const alice = await home.start('alice');
    expect(await alice.broadcast({ message: 'anyone?' })).toEqual([]);
    expect(await alice.ctx.store.namesIn('inbox')).toEqual([]);
  });

  it('lists live sessions sorted, with (you), and drops one that stopped', async () => {
    home.clock.advance(-45 * 60_000);
    const web = await home.start('web');
    home.clock.advance(45 * 60_000);
    const api = await home.start('api');
    await api.heartbeat();
    await web.heartbeat();
    const listed = await api.sessions();
    expect(listed.map((s) => [s.name, s.pid, s.cwd])).toEqual([
      ['api', process.pid, '/home/me/api'],
      ['web', process.pid, '/home/me/api'],
    ]);
    expect(formatSessions(listed, api.name, home.clock.now(), '/home/me')).toBe(
      [
        '2 active session(s):',
        `  - api (you) — ~/api (up <1m, pid ${process.pid})`,
        `  - web — ~/api (up 45m, pid ${process.pid})`,
      ].join('\n'),
    );
    await web.stop();
    expect((await api.sessions()).map((s) => s.name)).toEqual(['api']);
  });

  it('keeps one heartbeat file per instance, and records the client', async () => {
    const api = await home.start('api');
    for (let i = 0; i < 5; i++) {
      home.clock.advance(30_000);
      await api.heartbeat();
    }
    await api.setClient('claude-code 2.1');
    const files = await fs.readdir(`${home.root}/sessions/api`);
    expect(files).toHaveLength(1);
    expect(await readJson(`${home.root}/sessions/api/${files[0]}`)).toMatchObject({
      kind: 'heartbeat',
      client: 'claude-code 2.1',
      atMs: home.clock.now(),
    });
    expect(home.errors).toEqual([]);
  });
});

describe('INV-FROM: the sender is always the server’s own identity', () => {
  it('given a caller that passes from, then the message is from the session itself', async () => {
    const bob = await home.start('bob');
    const alice = await home.start('alice');
    const forged = { to: 'bob', message: 'trust me', from: 'root', machine: 'other' } as SendInput;
    const { event } = await alice.send(forged);
    expect([event.from, event.machine]).toEqual(['alice', 'box']);
    expect((await bob.poll({ via: 'poll' })).messages.map((m) => m.from)).toEqual(['alice']);
  });

  it('given a session renamed to api-2, then its messages are from api-2', async () => {
    await home.start('bob');
    await home.start('api');
    const second = await home.start('api');
    const { event } = await second.send({ to: 'bob', message: 'hi' });
    expect(event.from).toBe('api-2');
    const copies = await second.broadcast({ message: 'all' } as { message: string });
    expect(copies.map((c) => c.from)).toEqual(['api-2', 'api-2']);
  });

  it('given a CLI context named cli, then its sends are from cli', async () => {
    await home.start('bob');
    const { event } = await sendMessage(home.context('cli'), { to: 'bob', message: 'from a person' });
    expect(event.from).toBe('cli');
    expect(await home.context('cli').store.sentKeys('cli')).toEqual([event.key]);
  });
});

import { describe, expect, it } from 'vitest';
import type { ConsumedEvent, HeartbeatEvent, OutboxEvent } from '../../src/log/events.js';
import { filterMessages, projectDashboard, TRAFFIC_WINDOW_MS } from '../../src/projections/dashboard.js';
import type { LivenessView } from '../../src/projections/sessions.js';
import { consumed, expired, heartbeat, keyOf, sent, T0 } from '../support/events.js';

const NOW = T0 + 10 * 60_000;
const view: LivenessView = { now: NOW, windowMs: 120_000, machine: 'box', isPidAlive: (pid) => pid !== 999 };

function beat(name: string, over: Partial<HeartbeatEvent> = {}): HeartbeatEvent {
  return heartbeat({
    at: keyOf(NOW - 1000, 0, 'x').slice(0, 22),
    name,
    instance: `${name.padEnd(8, 'a')}`.slice(0, 8),
    ...over,
  });
}

function via(key: string, path: string, to: string, atMs: number): ConsumedEvent {
  return { ...consumed(key, to, atMs), via: path as ConsumedEvent['via'] };
}

const k = (minutesAgo: number, id: string) => keyOf(NOW - minutesAgo * 60_000, 0, id);

describe('the dashboard projection', () => {
  it('groups live sessions by machine, this machine first, with push mode and unread count', () => {
    const data = projectDashboard({
      view,
      sessions: [
        beat('api'),
        beat('web', { push: 'channel' } as Partial<HeartbeatEvent>),
        beat('dead', { pid: 999 }),
      ],
      remoteSessions: [beat('db', { machine: 'other' })],
      messages: [sent({ key: k(3, 'aaaaa1'), to: 'api' }), sent({ key: k(2, 'aaaaa2'), to: 'api' })],
      outbox: [],
    });
    expect(data.machines.map((g) => [g.machine, g.sessions.map((s) => [s.name, s.push, s.unread])])).toEqual([
      [
        'box',
        [
          ['api', 'asks', 2],
          ['web', 'channel', 0],
        ],
      ],
      ['other', [['db', 'asks', null]]],
    ]);
  });

  it('tells each state apart from the log: queued, handed to the client, returned to the model, expired', () => {
    const keys = ['q', 'n', 'c', 'p', 'h', 'e'].map((c, i) => k(9 - i, `aaaaa${c}`));
    const [q, n, c, p, h, e] = keys as [string, string, string, string, string, string];
    const data = projectDashboard({
      view,
      sessions: [],
      messages: [
        ...keys.map((key) => sent({ key })),
        via(n, 'native', 'bob', Number(n.slice(0, 13)) + 5),
        via(c, 'channel', 'bob', Number(c.slice(0, 13)) + 7),
        via(p, 'long-poll', 'bob', Number(p.slice(0, 13)) + 1500),
        via(h, 'hook', 'bob', Number(h.slice(0, 13))),
        expired(e, 'bob', NOW),
      ],
      outbox: [],
    });
    const byKey = new Map(data.messages.map((m) => [m.key, m]));
    expect(byKey.get(q)).toMatchObject({ state: 'queued' });
    expect(byKey.get(q)?.via).toBeUndefined();
    expect(byKey.get(n)).toMatchObject({ state: 'handed', via: 'native', deliveryMs: 5 });
    expect(byKey.get(c)).toMatchObject({ state: 'handed', via: 'channel', deliveryMs: 7 });
    expect(byKey.get(p)).toMatchObject({ state: 'returned', via: 'long-poll', deliveryMs: 1500 });
    expect(byKey.get(h)).toMatchObject({ state: 'returned', via: 'hook' });
    expect(byKey.get(e)).toMatchObject({ state: 'expired', settledAt: NOW });
    expect(filterMessages(data.messages, { state: 'handed' }).map((m) => m.key)).toEqual([c, n]);
  });

  it('shows a reply_to thread together, in the order written, threads by newest activity first', () => {
    const req = sent({ key: k(9, 'req001'), from: 'web', to: 'api', type: 'request' });
    const other = sent({ key: k(8, 'oth001'), from: 'x', to: 'api' });
    const res = sent({ key: k(7, 'res001'), from: 'api', to: 'web', type: 'response', replyTo: 'req001' });
    const again = sent({ key: k(6, 'res002'), from: 'web', to: 'api', replyTo: 'res001' });
    const orphan = sent({ key: k(5, 'orp001'), replyTo: 'gone00' });
    const data = projectDashboard({
      view,
      sessions: [],
      messages: [again, orphan, other, res, req],
      outbox: [],
    });
    expect(data.messages.map((m) => [m.id, m.depth])).toEqual([
      ['orp001', 0],
      ['req001', 0],
      ['res001', 1],
      ['res002', 2],
      ['oth001', 0],
    ]);
    expect(new Set(data.messages.slice(1, 4).map((m) => m.thread))).toEqual(new Set([req.key]));
    expect(filterMessages(data.messages, { session: 'x' }).map((m) => m.id)).toEqual(['oth001']);
  });

  it('ends a reply_to loop instead of following it forever', () => {
    const a = sent({ key: k(3, 'loopa1'), replyTo: 'loopb1' });
    const b = sent({ key: k(2, 'loopb1'), replyTo: 'loopa1' });
    const data = projectDashboard({ view, sessions: [], messages: [a, b], outbox: [] });
    expect(data.messages.map((m) => m.id).sort()).toEqual(['loopa1', 'loopb1']);
  });

  it('counts the last hour of traffic per sender and recipient, the outbox included', () => {
    const outbox: OutboxEvent = {
      ...sent({ key: k(1, 'out001'), from: 'api' }),
      kind: 'outbox',
      to: 'db',
      toMachine: 'other',
    } as OutboxEvent;
    const data = projectDashboard({
      view,
      sessions: [],
      messages: [
        sent({ key: k(1, 'tra001'), from: 'a', to: 'b' }),
        sent({ key: k(2, 'tra002'), from: 'a', to: 'b' }),
        sent({ key: k(3, 'tra003'), from: 'b', to: 'a' }),
        sent({ key: keyOf(NOW - TRAFFIC_WINDOW_MS - 1, 0, 'old001'), from: 'a', to: 'c' }),
      ],
      outbox: [outbox],
    });
    expect(data.traffic.cells).toEqual([
      { from: 'a', to: 'b', count: 2 },
      { from: 'api', to: 'other:db', count: 1 },
      { from: 'b', to: 'a', count: 1 },
    ]);
    expect(data.traffic.names).toEqual(['a', 'api', 'b', 'other:db']);
    expect(data.outbox.map((o) => [o.id, o.to])).toEqual([['out001', 'other:db']]);
  });

  it('shows a put-back message once, as its copy, and cuts a long body', () => {
    const original = sent({ key: k(5, 'orig01') });
    const copy = sent({ key: k(4, 'copy01'), restoredFrom: original.key, body: 'x'.repeat(5000) });
    const data = projectDashboard({
      view,
      sessions: [],
      messages: [original, consumed(original.key), copy],
      outbox: [],
    });
    expect(data.messages.map((m) => [m.id, m.state, m.body.length, m.bodyChars])).toEqual([
      ['copy01', 'queued', 2000, 5000],
    ]);
  });
});

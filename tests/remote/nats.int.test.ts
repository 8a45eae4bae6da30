import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import {
  addKey,
  droppedPrefix,
  PrivateNats,
  pollLines,
  type RelayProc,
  serveAs,
  startRelay,
} from '../support/remote.js';
import { waitFor } from '../support/wait.js';

/** Several relay servers on one NATS JetStream, as real processes: they must behave as one relay. */

async function api(relay: RelayProc, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${relay.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

let n = 0;
function wireMessage() {
  const id = `m${String(n++).padStart(5, '0')}`.slice(0, 6);
  const ms = Date.now();
  return {
    key: `${ms}-${String(n).padStart(8, '0')}-${id}`,
    id,
    from: 'web',
    fromMachine: 'laptop',
    type: 'info',
    body: `hello ${n}`,
    sentAt: ms,
    ttlMs: 600_000,
  };
}

describe('relay servers on NATS', () => {
  it('INV-REMOTE-ONCE / INV-REMOTE-PRESENCE: concurrent polls of one inbox through two relay servers on one NATS get each message once', async () => {
    const data = await tempDir();
    const prefix = droppedPrefix();
    const laptopKey = await addKey(data, 'laptop');
    const serverKey = await addKey(data, 'server-2');
    const [a, b] = await Promise.all([
      startRelay({ data, backend: 'nats', natsPrefix: prefix }),
      startRelay({ data, backend: 'nats', natsPrefix: prefix }),
    ]);
    if (!a || !b) throw new Error('relays did not start');
    const beat = { instance: 'abcd1234', pid: 1, cwd: '/srv/api', startedAt: 1 };
    expect((await api(a, serverKey, 'PUT', '/v1/sessions/server-2/api', beat)).status).toBe(204);
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      const m = wireMessage();
      const res = await api(i % 2 === 0 ? a : b, laptopKey, 'POST', '/v1/sessions/server-2/api/messages', m);
      expect(res.status).toBe(201);
      sent.push(m.key);
    }
    const seen: string[] = [];
    const poller = async (relay: RelayProc) => {
      for (let round = 0; round < 400 && seen.length < sent.length; round++) {
        const res = await api(relay, serverKey, 'POST', '/v1/sessions/server-2/api/poll', {
          max: 3,
          wait: 0,
        });
        expect(res.status).toBe(200);
        const messages = res.json.messages as { key: string; ack: string }[];
        seen.push(...messages.map((m) => m.key));
        if (messages.length > 0) {
          const acked = await api(relay, serverKey, 'POST', '/v1/sessions/server-2/api/ack', {
            acks: messages.map((m) => m.ack),
          });
          expect(acked.status).toBe(200);
        }
      }
    };
    await Promise.all([poller(a), poller(b), poller(a), poller(b)]);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...sent].sort());
    // Both relays list the session that heartbeated through one of them.
    for (const relay of [a, b]) {
      const listed = await api(relay, laptopKey, 'GET', '/v1/sessions');
      expect(
        (listed.json.sessions as { machine: string; name: string }[]).map((s) => `${s.machine}:${s.name}`),
      ).toEqual(['server-2:api']);
    }
  });

  it('INV-REMOTE-OUTBOX: NATS restarted while two relays run: health says so, sends wait, then arrive once', async () => {
    const nats = await PrivateNats.start();
    const data = await tempDir();
    const laptopKey = await addKey(data, 'laptop');
    const serverKey = await addKey(data, 'server-2');
    const opts = { data, backend: 'nats' as const, natsUrl: nats.url };
    const [one, two] = await Promise.all([startRelay(opts), startRelay(opts)]);
    if (!one || !two) throw new Error('relays did not start');
    const fast = { RELAY_REMOTE_TIMEOUT_MS: '1500' };
    const web = await serveAs('web', one.url, laptopKey, { env: fast });
    const apiSession = await serveAs('api', two.url, serverKey, { env: fast });
    await waitFor('server-2:api to be listed', async () =>
      (await web.call('relay_sessions')).text.includes('- server-2:api — ') ? true : undefined,
    );

    await nats.stop();
    await waitFor('relay one to report NATS down', async () => {
      const res = await fetch(`${one.url}/health`);
      const body = (await res.json()) as { status: string; backend: { ok: boolean } };
      return res.status === 503 && body.status === 'degraded' && !body.backend.ok ? true : undefined;
    });
    const sent = await web.call('relay_send', { to: 'server-2:api', message: 'while NATS was down' });
    const id = /^Queued #([a-z0-9]{6}) for server-2:api \(relay unreachable; retrying\)\.$/.exec(
      sent.text,
    )?.[1];
    expect(id, sent.text).toBeDefined();

    await nats.restart();
    for (const relay of [one, two]) {
      await waitFor('the relay to be healthy again', async () =>
        (await fetch(`${relay.url}/health`)).status === 200 ? true : undefined,
      );
    }
    expect(await pollLines(apiSession, 1)).toEqual([`  [info|laptop] From web: #${id} while NATS was down`]);
    const after = await web.call('relay_send', { to: 'server-2:api', message: 'and after' });
    expect(after.text).toMatch(/^Sent #[a-z0-9]{6} to server-2:api\.$/);
    expect(await pollLines(apiSession, 1)).toEqual([expect.stringContaining('and after')]);
    expect((await apiSession.call('relay_poll')).text).toBe('No new messages.');
  });
});

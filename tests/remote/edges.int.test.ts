import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/remote/backend.js';
import { EmbeddedBackend } from '../../src/remote/backends/embedded.js';
import { NatsBackend } from '../../src/remote/backends/nats.js';
import { KeyRing, type KeyStore } from '../../src/remote/keys.js';
import { PollAnswerSchema } from '../../src/remote/protocol.js';
import { RelayServer } from '../../src/remote/server.js';
import { defer, tempDir } from '../support/cleanup.js';
import { droppedPrefix, NATS_URL } from '../support/remote.js';
import { waitFor } from '../support/wait.js';
import { message } from './contract.js';

/** The relay's edges: revocation of a waiting request, keys and limits shared on NATS, the parser's refusals. */

const BEAT = { instance: 'abcd1234', pid: 7, cwd: '/srv/api', startedAt: 1 };

async function listen(
  backend: Backend,
  keys: KeyStore,
  over: { rateLimit?: number; hideDetails?: boolean } = {},
): Promise<RelayServer> {
  const shared = backend.shared?.(over.rateLimit ?? 10_000);
  const relay = await RelayServer.listen(
    {
      backend,
      keys,
      version: 'test',
      rateLimit: over.rateLimit ?? 10_000,
      ...(shared ? { rate: shared.rate } : {}),
      ...(over.hideDetails ? { hideDetails: true } : {}),
    },
    0,
  );
  defer(() => relay.close());
  return relay;
}

async function nats(): Promise<[NatsBackend, NatsBackend]> {
  const options = { url: NATS_URL, prefix: droppedPrefix(), liveWindowMs: 120_000, leaseMs: 30_000 };
  const a = await NatsBackend.open(options);
  const b = await NatsBackend.open(options);
  return [a, b];
}

async function call(relay: RelayServer, key: string, route: string, body?: unknown, method = 'POST') {
  const res = await fetch(`${relay.url}/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : {} };
}

function wire(fromMachine: string, body: string) {
  const { toMachine: _m, to: _t, ...m } = message({ fromMachine, body });
  return m;
}

/** A raw request over TCP: what fetch would refuse to send. */
async function raw(relay: RelayServer, request: string): Promise<string> {
  const socket = net.connect(relay.address.port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  socket.write(request);
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return Buffer.concat(chunks).toString('utf8');
}

function expectSentence(answer: string, status: number): void {
  expect(answer.split('\r\n')[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  expect(body.error.message).toMatch(/^[^\n]{10,400}\.$/);
}

describe.each(['embedded', 'nats'] as const)('a key revoked while its poll waits (%s)', (kind) => {
  it('INV-REMOTE-AUTH: the waiting poll ends at once with 401 and is never handed a later message', async () => {
    const data = await tempDir('relay-revoke-');
    let relay: RelayServer;
    let other: RelayServer;
    let keys: KeyStore;
    if (kind === 'embedded') {
      keys = KeyRing.inDataDir(data);
      const backend = new EmbeddedBackend(data, { liveWindowMs: 120_000, leaseMs: 30_000 });
      relay = await listen(backend, KeyRing.inDataDir(data));
      other = relay;
    } else {
      // Two relays on one NATS: the key is added and revoked through one, the poll waits on the other.
      const [a, b] = await nats();
      keys = a.shared(10_000).keys;
      relay = await listen(b, b.shared(10_000).keys);
      other = await listen(a, keys);
    }
    const server = (await keys.add('server-2')).key;
    const laptop = (await keys.add('laptop')).key;
    expect((await call(other, server, '/sessions/server-2/api', BEAT, 'PUT')).status).toBe(204);

    const waiting = call(relay, server, '/sessions/server-2/api/poll', { wait: 30 });
    // The poll is waiting on the relay (not answered yet) when the key goes.
    await waitFor('the poll to wait at the relay', () => relay.waitingRequests === 1);
    expect(await keys.revoke('server-2')).toBe(1);
    const answer = await waiting;
    expect(answer.status, answer.text).toBe(401);
    expect(answer.json.error.message).toMatch(/revoked/);

    // A message sent after the revocation waits for the machine's next key; it was handed to nobody.
    const sent = await call(other, laptop, '/sessions/server-2/api/messages', wire('laptop', 'after revoke'));
    expect(sent.status, sent.text).toBe(201);
    expect((await call(relay, server, '/sessions/server-2/api/poll', {})).status).toBe(401);
    const fresh = (await keys.add('server-2')).key;
    const polled = PollAnswerSchema.parse(
      (await call(relay, fresh, '/sessions/server-2/api/poll', { wait: 5 })).json,
    );
    expect(polled.messages.map((m) => m.body)).toEqual(['after revoke']);
  });
});

describe('relays on one NATS share keys and the request limit', () => {
  it('INV-REMOTE-AUTH: a key added through one relay works on the other, a revoke holds on both', async () => {
    const [a, b] = await nats();
    const one = await listen(a, a.shared(10_000).keys);
    const two = await listen(b, b.shared(10_000).keys);
    const key = (await a.shared(10_000).keys.add('server-2')).key;
    expect((await call(two, key, '/sessions/server-2/api', BEAT, 'PUT')).status).toBe(204);
    expect((await call(one, key, '/sessions', undefined, 'GET')).status).toBe(200);
    expect(await b.shared(10_000).keys.revoke('server-2')).toBe(1);
    expect((await call(one, key, '/sessions', undefined, 'GET')).status).toBe(401);
    expect((await call(two, key, '/sessions', undefined, 'GET')).status).toBe(401);
  });

  it('INV-REMOTE-INPUT: the per-key limit counts requests to every relay', async () => {
    const [a, b] = await nats();
    const one = await listen(a, a.shared(10_000).keys, { rateLimit: 3 });
    const two = await listen(b, b.shared(10_000).keys, { rateLimit: 3 });
    const key = (await a.shared(10_000).keys.add('server-2')).key;
    const statuses: number[] = [];
    for (const relay of [one, two, one, two])
      statuses.push((await call(relay, key, '/sessions', undefined, 'GET')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('what the HTTP parser refuses', () => {
  it('INV-REMOTE-INPUT: a 64 KB header, a 100 KB URL and a garbage request line each get one sentence', async () => {
    const data = await tempDir('relay-parse-');
    const relay = await listen(
      new EmbeddedBackend(data, { liveWindowMs: 120_000, leaseMs: 30_000 }),
      KeyRing.inDataDir(data),
    );
    expectSentence(
      await raw(relay, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`),
      431,
    );
    expectSentence(await raw(relay, `GET /${'a'.repeat(100 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`), 431);
    expectSentence(await raw(relay, 'HELLO THERE\r\n\r\n'), 400);
  });
});

describe('--hide-details', () => {
  it("INV-REMOTE-AUTH: other machines' sessions are listed without directory and pid; the caller's own in full", async () => {
    const data = await tempDir('relay-hide-');
    const keys = KeyRing.inDataDir(data);
    const server = (await keys.add('server-2')).key;
    const laptop = (await keys.add('laptop')).key;
    const relay = await listen(new EmbeddedBackend(data, { liveWindowMs: 120_000, leaseMs: 30_000 }), keys, {
      hideDetails: true,
    });
    expect((await call(relay, server, '/sessions/server-2/api', BEAT, 'PUT')).status).toBe(204);
    expect(
      (await call(relay, laptop, '/sessions/laptop/web', { ...BEAT, cwd: '/home/me/web' }, 'PUT')).status,
    ).toBe(204);
    const seen = (await call(relay, laptop, '/sessions', undefined, 'GET')).json.sessions;
    expect(seen).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ machine: 'server-2', name: 'api', cwd: '', pid: 0 }),
        expect.objectContaining({ machine: 'laptop', name: 'web', cwd: '/home/me/web', pid: 7 }),
      ]),
    );
    expect(JSON.stringify(seen)).not.toContain('/srv/api');
  });
});

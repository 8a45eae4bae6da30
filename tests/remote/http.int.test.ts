import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedBackend } from '../../src/remote/backends/embedded.js';
import { KeyRing } from '../../src/remote/keys.js';
import { RelayServer } from '../../src/remote/server.js';
import { message } from './contract.js';

/** The relay's HTTP edge on a real server on 127.0.0.1 (embedded storage): keys, names, bodies, limits. */

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; retryAfter?: number } } & Record<string, unknown>;
  headers: Headers;
  text: string;
}

let root: string;
let dir: string;
let keys: KeyRing;
let server: RelayServer;
let log: string[];
let laptopKey: string;
let serverKey: string;
const answers: string[] = [];

async function start(rateLimit = 10_000): Promise<RelayServer> {
  const backend = new EmbeddedBackend(dir, { liveWindowMs: 120_000, leaseMs: 30_000 });
  return RelayServer.listen(
    { backend, keys, version: 'test', rateLimit, log: (l) => log.push(l) },
    0,
    '127.0.0.1',
  );
}

/**
 * One request with node:http, which sends the path exactly as given: fetch() would resolve `..` in the URL
 * before it left, and the server would never see the traversal attempt.
 */
async function call(
  method: string,
  urlPath: string,
  options: { key?: string; body?: unknown; raw?: string; contentType?: string; relay?: RelayServer } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (payload !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const { port } = (options.relay ?? server).address;
  const { status, text, head } = await new Promise<{ status: number; text: string; head: Headers }>(
    (resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const head = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') head.set(k, v);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), head });
        });
        res.on('error', reject);
      });
      // A refused upload may be cut short by the server once it answered; the answer is what counts.
      req.on('error', reject);
      req.end(payload);
    },
  );
  answers.push(text);
  return { status, body: text ? JSON.parse(text) : {}, headers: head, text };
}

/** A refusal is one sentence: one line, ending with a full stop. */
function expectSentence(a: Answer, status: number, code?: string): void {
  expect(a.status, a.text).toBe(status);
  const error = a.body.error;
  expect(error?.message).toMatch(/^[^\n]{10,400}\.$/);
  if (code) expect(error?.code).toBe(code);
}

function send(key: string, over: Record<string, unknown> = {}) {
  const { toMachine: _m, to: _t, ...body } = message();
  return { ...body, ...over, ...(key === laptopKey ? { fromMachine: 'laptop' } : {}) };
}

const BEAT = { instance: 'abcd1234', pid: 7, cwd: '/srv/api', startedAt: 1 };

beforeEach(async () => {
  // The data directory sits alone in its own temporary folder, so a write outside it would show.
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-http-'));
  dir = path.join(root, 'data');
  keys = KeyRing.inDataDir(dir);
  laptopKey = (await keys.add('laptop')).key;
  serverKey = (await keys.add('server-2')).key;
  log = [];
  answers.length = 0;
  server = await start();
});

afterEach(async () => {
  await server.close();
  // INV-REMOTE-AUTH: no key ever reaches a log line or an answer.
  for (const text of [...log, ...answers]) {
    expect(text).not.toContain(laptopKey);
    expect(text).not.toContain(serverKey);
  }
  const stored = await fs.readFile(path.join(dir, 'keys.json'), 'utf8');
  expect(stored).not.toContain(laptopKey);
  expect(stored).not.toContain(serverKey);
  await fs.rm(root, { recursive: true, force: true });
});

describe('relay HTTP API', () => {
  it('GET /health answers 200 with the version and the backend status, without a key', async () => {
    const a = await call('GET', '/health');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ status: 'ok', version: 'test', backend: { kind: 'embedded', ok: true } });
  });

  it('INV-REMOTE-AUTH: no key, a wrong key and a revoked key get 401; keys are stored hashed', async () => {
    expectSentence(await call('GET', '/v1/sessions'), 401, 'no_key');
    expectSentence(await call('GET', '/v1/sessions', { key: `${laptopKey}x` }), 401, 'bad_key');
    expectSentence(await call('GET', '/v1/sessions', { key: 'crk_short' }), 401, 'bad_key');
    expect((await call('GET', '/v1/sessions', { key: laptopKey })).status).toBe(200);
    // Revoked while the server runs: refused from the next request on.
    expect(await keys.revoke('laptop')).toBe(1);
    expectSentence(await call('GET', '/v1/sessions', { key: laptopKey }), 401, 'bad_key');
    expect((await call('GET', '/v1/sessions', { key: serverKey })).status).toBe(200);
    const stored = JSON.parse(await fs.readFile(path.join(dir, 'keys.json'), 'utf8')) as {
      keys: { hash: string }[];
    };
    expect(stored.keys.map((k) => k.hash)).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
    expect((await fs.stat(path.join(dir, 'keys.json'))).mode & 0o077).toBe(0);
  });

  it('INV-REMOTE-AUTH: a key used for another machine gets 403, whatever it tries', async () => {
    const s = '/v1/sessions/server-2/api';
    expectSentence(await call('PUT', s, { key: laptopKey, body: BEAT }), 403, 'wrong_machine');
    expectSentence(await call('POST', `${s}/poll`, { key: laptopKey, body: {} }), 403, 'wrong_machine');
    expectSentence(
      await call('POST', `${s}/ack`, { key: laptopKey, body: { acks: ['x'] } }),
      403,
      'wrong_machine',
    );
    expectSentence(await call('DELETE', `${s}/abcd1234`, { key: laptopKey }), 403, 'wrong_machine');
    // Sending as another machine.
    expect((await call('PUT', s, { key: serverKey, body: BEAT })).status).toBe(204);
    const forged = { ...send(laptopKey), fromMachine: 'server-2' };
    expectSentence(
      await call('POST', `${s}/messages`, { key: laptopKey, body: forged }),
      403,
      'wrong_machine',
    );
    // Nothing was stored by the refused send.
    const polled = await call('POST', `${s}/poll`, { key: serverKey, body: {} });
    expect(polled.body.messages).toEqual([]);
  });

  it('INV-CONFINED: traversal, oversized and device names in URLs get 400, and nothing lands outside the data directory', async () => {
    const bad = [
      '..',
      '%2e%2e',
      '..%2F..%2Fetc',
      '%2E%2E%5C..',
      'x'.repeat(129),
      'CON',
      'nul.txt',
      '.hidden',
      'a%00b',
      'a%2Fb',
      '%ZZ',
    ];
    for (const name of bad) {
      expectSentence(await call('PUT', `/v1/sessions/laptop/${name}`, { key: laptopKey, body: BEAT }), 400);
      expectSentence(await call('POST', `/v1/sessions/${name}/api/poll`, { key: laptopKey, body: {} }), 400);
      expectSentence(
        await call('POST', `/v1/names/${name}/messages`, { key: laptopKey, body: send(laptopKey) }),
        400,
      );
    }
    expectSentence(await call('DELETE', '/v1/sessions/laptop/api/..', { key: laptopKey }), 400);
    expect(await fs.readdir(root)).toEqual(['data']);
    const machines = await fs.readdir(path.join(dir, 'machines')).catch(() => []);
    expect(machines).toEqual([]);
  });

  it('INV-REMOTE-INPUT: malformed JSON, wrong or unknown fields and a wrong content type are refused in one sentence', async () => {
    const s = '/v1/sessions/laptop/web';
    expectSentence(await call('PUT', s, { key: laptopKey, raw: '{"instance":' }), 400, 'bad_json');
    expectSentence(await call('PUT', s, { key: laptopKey, raw: '' }), 400, 'bad_json');
    expectSentence(
      await call('PUT', s, { key: laptopKey, body: { ...BEAT, instance: 'UPPER' } }),
      400,
      'bad_body',
    );
    expectSentence(await call('PUT', s, { key: laptopKey, body: { ...BEAT, extra: 1 } }), 400, 'bad_body');
    expectSentence(await call('PUT', s, { key: laptopKey, body: [BEAT] }), 400, 'bad_body');
    expectSentence(await call('POST', `${s}/poll`, { key: laptopKey, body: { wait: 31 } }), 400, 'bad_body');
    expectSentence(await call('POST', `${s}/ack`, { key: laptopKey, body: { acks: [] } }), 400, 'bad_body');
    expectSentence(
      await call('POST', `${s}/ack`, { key: laptopKey, body: { acks: ['../../x'] } }),
      400,
      'bad_ack',
    );
    expectSentence(
      await call('PUT', s, { key: laptopKey, raw: JSON.stringify(BEAT), contentType: 'text/plain' }),
      415,
    );
    await call('PUT', '/v1/sessions/server-2/api', { key: serverKey, body: BEAT });
    const to = '/v1/sessions/server-2/api/messages';
    for (const over of [
      { type: 'order' },
      { body: '' },
      { key: 'nope' },
      { from: '../x' },
      { replyTo: 'TOOLONG1' },
      { ttlMs: -1 },
    ]) {
      expectSentence(
        await call('POST', to, { key: laptopKey, body: send(laptopKey, over) }),
        400,
        'bad_body',
      );
    }
    expect((await call('POST', to, { key: laptopKey, body: send(laptopKey) })).status).toBe(201);
  });

  it('INV-LIMITS: a message over 1,000,000 bytes gets 413; so does a request over the endpoint limit', async () => {
    await call('PUT', '/v1/sessions/server-2/api', { key: serverKey, body: BEAT });
    const to = '/v1/sessions/server-2/api/messages';
    const atLimit = send(laptopKey, { body: `${'é'.repeat(499_999)}ab` });
    expect((await call('POST', to, { key: laptopKey, body: atLimit })).status).toBe(201);
    expectSentence(
      await call('POST', to, { key: laptopKey, body: send(laptopKey, { body: 'x'.repeat(1_000_001) }) }),
      413,
    );
    // Escaped control characters make the JSON six times the body; still within the request limit.
    const escaped = send(laptopKey, { body: '\u0001'.repeat(1_000_000) });
    expect((await call('POST', to, { key: laptopKey, body: escaped })).status).toBe(201);
    expectSentence(
      await call('POST', to, { key: laptopKey, raw: `"${'x'.repeat(7_000_000)}"` }),
      413,
      'too_large',
    );
    expectSentence(
      await call('PUT', '/v1/sessions/laptop/web', { key: laptopKey, raw: `"${'x'.repeat(70_000)}"` }),
      413,
    );
    // The server still answers after refusing.
    expect((await call('GET', '/health')).status).toBe(200);
  });

  it('INV-REMOTE-INPUT: a flood past the rate limit gets 429 with Retry-After, per key', async () => {
    await server.close();
    server = await start(5);
    const statuses: number[] = [];
    let limited: Answer | undefined;
    for (let i = 0; i < 12; i++) {
      const a = await call('GET', '/v1/sessions', { key: laptopKey });
      statuses.push(a.status);
      if (a.status === 429) limited = a;
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual(Array(7).fill(429));
    expect(limited).toBeDefined();
    if (!limited) return;
    expectSentence(limited, 429, 'rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body.error?.retryAfter).toBe(retryAfter);
    // Another machine's key has its own budget.
    expect((await call('GET', '/v1/sessions', { key: serverKey })).status).toBe(200);
  });

  it('sending to a name that never joined gets 404; a bare name goes to its one live machine, or 409 when two have it', async () => {
    const unknown = await call('POST', '/v1/sessions/server-2/api/messages', {
      key: laptopKey,
      body: send(laptopKey),
    });
    expectSentence(unknown, 404, 'unknown_session');
    expectSentence(
      await call('POST', '/v1/names/api/messages', { key: laptopKey, body: send(laptopKey) }),
      404,
    );
    await call('PUT', '/v1/sessions/server-2/api', { key: serverKey, body: BEAT });
    const byName = await call('POST', '/v1/names/api/messages', { key: laptopKey, body: send(laptopKey) });
    expect(byName.status).toBe(201);
    expect(byName.body).toMatchObject({ to: 'server-2:api', live: true, duplicate: false });
    await call('PUT', '/v1/sessions/laptop/api', { key: laptopKey, body: BEAT });
    expectSentence(
      await call('POST', '/v1/names/api/messages', { key: laptopKey, body: send(laptopKey) }),
      409,
      'ambiguous_name',
    );
  });

  it('unknown endpoints get 404 and wrong methods 405', async () => {
    expectSentence(await call('GET', '/v2/sessions', { key: laptopKey }), 404, 'not_found');
    expectSentence(await call('GET', '/', { key: laptopKey }), 404);
    expectSentence(await call('POST', '/health'), 405);
    expectSentence(await call('DELETE', '/v1/sessions', { key: laptopKey }), 405);
    expectSentence(await call('GET', '/v1/sessions/laptop/web/poll', { key: laptopKey }), 405);
  });
});

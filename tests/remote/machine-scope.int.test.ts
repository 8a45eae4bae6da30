import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SentEvent } from '../../src/log/events.js';
import { Store } from '../../src/log/store.js';
import { formatPoll } from '../../src/mcp/format.js';
import { importRemote } from '../../src/relay/remote/import.js';
import type { Backend } from '../../src/remote/backend.js';
import { EmbeddedBackend } from '../../src/remote/backends/embedded.js';
import { NatsBackend } from '../../src/remote/backends/nats.js';
import { KeyRing } from '../../src/remote/keys.js';
import { type LeasedMessage, PollAnswerSchema } from '../../src/remote/protocol.js';
import { RelayServer } from '../../src/remote/server.js';
import { defer, tempDir } from '../support/cleanup.js';
import { droppedPrefix, NATS_URL } from '../support/remote.js';
import { message } from './contract.js';

/**
 * INV-REMOTE-AUTH: idempotency is per sending machine, the one its API key proves. Machine desk sends first
 * with the key that laptop then uses; neither decides whether the other's message is stored, on the relay
 * (either backend) or in the recipient's store.
 */
async function relayOn(kind: 'embedded' | 'nats', data: string): Promise<RelayServer> {
  const options = { liveWindowMs: 120_000, leaseMs: 30_000 };
  let backend: Backend;
  if (kind === 'embedded') backend = new EmbeddedBackend(data, options);
  else {
    backend = await NatsBackend.open({ ...options, url: NATS_URL, prefix: droppedPrefix() });
  }
  const relay = await RelayServer.listen(
    { backend, keys: KeyRing.inDataDir(data), version: 'test', rateLimit: 10_000 },
    0,
  );
  defer(() => relay.close());
  return relay;
}

async function call(relay: RelayServer, key: string, route: string, body: unknown, method = 'POST') {
  const res = await fetch(`${relay.url}/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

describe.each(['embedded', 'nats'] as const)('one idempotency key from two machines (%s)', (kind) => {
  it('INV-REMOTE-AUTH: both messages are stored, delivered and imported; each retry is still one', async () => {
    const data = await tempDir('relay-scope-');
    const keys = KeyRing.inDataDir(data);
    const desk = (await keys.add('desk')).key;
    const laptop = (await keys.add('laptop')).key;
    const server = (await keys.add('server-2')).key;
    const relay = await relayOn(kind, data);
    const beat = { instance: 'abcd1234', pid: 7, cwd: '/srv/api', startedAt: 1 };
    expect((await call(relay, server, '/sessions/server-2/api', beat, 'PUT')).status).toBe(204);

    const { toMachine: _m, to: _t, ...wire } = message();
    const first = await call(relay, desk, '/sessions/server-2/api/messages', {
      ...wire,
      fromMachine: 'desk',
      body: 'desk here',
    });
    expect(first.status, first.text).toBe(201);
    const mine = { ...wire, fromMachine: 'laptop', body: 'laptop here' };
    const second = await call(relay, laptop, '/sessions/server-2/api/messages', mine);
    expect(second.status, second.text).toBe(201);
    expect((await call(relay, laptop, '/sessions/server-2/api/messages', mine)).status).toBe(200);

    const polled = PollAnswerSchema.parse(
      JSON.parse((await call(relay, server, '/sessions/server-2/api/poll', { max: 10 })).text),
    );
    expect(polled.messages.map((m) => m.body).sort()).toEqual(['desk here', 'laptop here']);

    // The recipient's import: each machine's copy lands; the same copy handed out again (a lost ack) does not.
    const store = new Store(path.join(data, 'recipient'));
    const imported: boolean[] = [];
    for (const m of polled.messages) imported.push(await importRemote({ store }, 'api', m));
    for (const m of polled.messages) imported.push(await importRemote({ store }, 'api', m));
    expect(imported).toEqual([true, true, false, false]);
    const inbox = (await store.readArea('inbox', 'api')) as SentEvent[];
    expect(new Set(inbox.map((e) => e.key)).size).toBe(2);
    // What a model sees is unchanged: the sender's id, its machine as origin.
    const text = formatPoll(inbox);
    expect(text).toContain(`[request|desk] From web: #${wire.id} desk here`);
    expect(text).toContain(`[request|laptop] From web: #${wire.id} laptop here`);
  });
});

it('INV-REMOTE-AUTH: a local key slot held by another machine’s message does not drop this one', async () => {
  const store = new Store(await tempDir('relay-scope-'));
  const leased = (fromMachine: string, body: string): LeasedMessage => {
    const { toMachine: _m, ...m } = message({ fromMachine, body });
    return { ...m, ack: 'x' };
  };
  const legacy = leased('desk', 'old copy');
  // Written before keys were scoped: under the sender's own key, without remoteKey.
  await store.appendSent({
    v: 1,
    kind: 'sent',
    key: legacy.key,
    id: legacy.id,
    at: legacy.key.slice(0, 22),
    sentAt: legacy.sentAt,
    from: 'web',
    machine: 'desk',
    origin: 'desk',
    to: 'api',
    type: 'info',
    body: 'old copy',
    ttlMs: 60_000,
  });
  expect(await importRemote({ store }, 'api', legacy)).toBe(false);
  expect(await importRemote({ store }, 'api', { ...legacy, fromMachine: 'laptop', body: 'new' })).toBe(true);
  expect((await store.readArea('inbox', 'api')).length).toBe(2);
});

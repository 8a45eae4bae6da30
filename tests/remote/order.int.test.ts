import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/relay/config.js';
import { RelaySession } from '../../src/relay/serve-session.js';
import { EmbeddedBackend } from '../../src/remote/backends/embedded.js';
import { KeyRing } from '../../src/remote/keys.js';
import { RelayServer } from '../../src/remote/server.js';
import { waitFor } from '../support/wait.js';

/** Two machines' sessions in this process, a real relay server on 127.0.0.1 between them. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function tmp(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-order-'));
  cleanups.push(() => fs.rm(d, { recursive: true, force: true }));
  return d;
}

async function machine(url: string, key: string, machineName: string, name: string): Promise<RelaySession> {
  const home = await tmp();
  const config = loadConfig(
    {
      RELAY_HOME: home,
      RELAY_MACHINE_NAME: machineName,
      RELAY_SESSION_NAME: name,
      RELAY_REMOTE_URL: url,
      RELAY_API_KEY: key,
      RELAY_REMOTE_RETRY_MAX_MS: '200',
    },
    home,
  );
  const session = await RelaySession.start({ config });
  cleanups.push(() => session.stop());
  return session;
}

describe('order across machines', () => {
  it('INV-REMOTE-ORDER / INV-ORDER: concurrent sends to another machine, by machine:name and by bare name, arrive in call order', async () => {
    const data = await tmp();
    const keys = KeyRing.inDataDir(data);
    const backend = new EmbeddedBackend(data, { liveWindowMs: 120_000, leaseMs: 30_000 });
    const relay = await RelayServer.listen(
      { backend, keys, version: 'test', rateLimit: 10_000 },
      0,
      '127.0.0.1',
    );
    cleanups.push(() => relay.close());
    const api = await machine(relay.url, (await keys.add('server-2')).key, 'server-2', 'api');
    const web = await machine(relay.url, (await keys.add('laptop')).key, 'laptop', 'web');
    await waitFor('server-2:api to be live at the relay', async () =>
      (await web.remoteSessions())?.some((s) => s.machine === 'server-2' && s.name === 'api')
        ? true
        : undefined,
    );

    const bodies = Array.from({ length: 24 }, (_, i) => `m${i}`);
    const answers = await Promise.all(
      bodies.map((message, i) => web.send({ to: i % 2 === 0 ? 'server-2:api' : 'api', message })),
    );
    expect(answers.map((a) => a.remote?.to)).toEqual(bodies.map(() => 'server-2:api'));
    // The outbox keys, and so the order on the far side, follow the order of the calls.
    const keysInCallOrder = answers.map((a) => a.event.key);
    expect([...keysInCallOrder].sort()).toEqual(keysInCallOrder);

    const got: string[] = [];
    await waitFor('all 24 messages', async () => {
      const { messages } = await api.poll({ via: 'poll' });
      got.push(...messages.map((m) => m.body));
      return got.length >= bodies.length ? true : undefined;
    });
    expect(got).toEqual(bodies);
    expect((await api.poll({ via: 'poll' })).messages).toEqual([]);
  });
});

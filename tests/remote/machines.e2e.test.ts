import { describe, expect, it } from 'vitest';
import { NatsBackend } from '../../src/remote/backends/nats.js';
import { defer, tempDir } from '../support/cleanup.js';
import { runCli } from '../support/processes.js';
import { addKey, NATS_URL, pollLines, serveAs, startRelay, uniquePrefix } from '../support/remote.js';
import type { Served } from '../support/stdio.js';
import { waitFor } from '../support/wait.js';

/**
 * Done as a new user would: two machines, simulated by two `serve` processes with their own
 * RELAY_MACHINE_NAME and RELAY_HOME, talk over real stdio MCP through `claude-relay relay`: first one relay
 * on the embedded log, then two relays sharing NATS JetStream, each machine on its own relay.
 */

async function sessionsOf(served: Served): Promise<string> {
  const answer = await served.call('relay_sessions');
  expect(answer.isError).toBe(false);
  return answer.text;
}

async function exchange(web: Served, api: Served): Promise<void> {
  // Each machine lists the other's session as machine:name once its heartbeat reached the relay.
  await waitFor('laptop to list server-2:api', async () =>
    (await sessionsOf(web)).includes('- server-2:api — ') ? true : undefined,
  );
  await waitFor('server-2 to list laptop:web', async () =>
    (await sessionsOf(api)).includes('- laptop:web — ') ? true : undefined,
  );
  expect(await sessionsOf(web)).toMatch(
    /^2 active session\(s\):\n {2}- web \(you\) — .*\n {2}- server-2:api — /,
  );

  const request = await web.call('relay_send', {
    to: 'server-2:api',
    message: 'Can you run the test suite?',
    type: 'request',
  });
  expect(request.isError).toBe(false);
  const id = /^Sent #([a-z0-9]{6}) to server-2:api\.$/.exec(request.text)?.[1];
  expect(id, request.text).toBeDefined();
  expect(await pollLines(api, 1)).toEqual([
    `  [request|laptop] From web: #${id} Can you run the test suite?`,
  ]);

  const response = await api.call('relay_send', {
    to: 'laptop:web',
    message: 'All 212 pass.\nNo flakes.',
    type: 'response',
    reply_to: id,
  });
  const id2 = /^Sent #([a-z0-9]{6}) to laptop:web\.$/.exec(response.text)?.[1];
  expect(id2, response.text).toBeDefined();
  const [line] = await pollLines(web, 1);
  expect((await web.call('relay_poll')).text).toBe('No new messages.');
  expect(line).toBe(`  [response|server-2] From api: #${id2} re #${id} All 212 pass.`);

  // A name that never joined this machine goes to the relay, which finds its one live session.
  const byName = await web.call('relay_send', { to: 'api', message: 'thanks' });
  const id3 = /^Sent #([a-z0-9]{6}) to server-2:api\.$/.exec(byName.text)?.[1];
  expect(id3, byName.text).toBeDefined();
  expect(await pollLines(api, 1)).toEqual([`  [info|laptop] From web: #${id3} thanks`]);

  // Exactly once: nothing more arrives on either side.
  expect((await api.call('relay_poll')).text).toBe('No new messages.');
  expect((await web.call('relay_poll')).text).toBe('No new messages.');
}

describe('across machines, over real stdio MCP', () => {
  it('INV-REMOTE-ONCE: two machines exchange a request and its response through one relay (embedded)', async () => {
    const data = await tempDir();
    const laptopKey = await addKey(data, 'laptop');
    const serverKey = await addKey(data, 'server-2');
    const relay = await startRelay({ data });
    const web = await serveAs('web', relay.url, laptopKey);
    const api = await serveAs('api', relay.url, serverKey);
    await exchange(web, api);

    const status = await runCli(['status'], {
      env: {
        RELAY_HOME: await tempDir(),
        RELAY_MACHINE_NAME: 'laptop',
        RELAY_REMOTE_URL: relay.url,
        RELAY_API_KEY: laptopKey,
      },
    });
    expect(status.stdout).toContain(`remote relay: ${relay.url} reachable (version `);
    expect(status.stdout).toContain('0 send(s) waiting in the outbox');
    for (const text of [relay.log(), status.stdout, status.stderr, web.stderr(), api.stderr()]) {
      expect(text).not.toContain(laptopKey);
      expect(text).not.toContain(serverKey);
    }
  });

  it('INV-REMOTE-ONCE: the same through two relays sharing NATS JetStream, one per machine', async () => {
    const data = await tempDir();
    const prefix = uniquePrefix();
    defer(async () => {
      const b = await NatsBackend.open({ url: NATS_URL, prefix, liveWindowMs: 120_000, leaseMs: 30_000 });
      await b.destroy();
      await b.close();
    });
    const laptopKey = await addKey(data, 'laptop');
    const serverKey = await addKey(data, 'server-2');
    const relays = await Promise.all([
      startRelay({ data, backend: 'nats', natsPrefix: prefix }),
      startRelay({ data, backend: 'nats', natsPrefix: prefix }),
    ]);
    const [one, two] = relays;
    if (!one || !two) throw new Error('relays did not start');
    const web = await serveAs('web', one.url, laptopKey);
    const api = await serveAs('api', two.url, serverKey);
    await exchange(web, api);
  });
});

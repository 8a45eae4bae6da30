import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { addKey, freePort, type RelayProc, serveAs, startRelay } from '../support/remote.js';
import type { Served } from '../support/stdio.js';
import { waitFor } from '../support/wait.js';

/**
 * Start order across machines: a relay started after the sessions, or restarted under them, takes every
 * send queued meanwhile once the sessions have told it they live (a failed heartbeat is retried from about
 * a second; "not joined yet" is retried until the TTL). Real relay and `serve` processes, real `kill -9`.
 */

/** Every message body `api` takes, by polling until `count` arrived; fails on a body seen twice. */
async function takeAll(api: Served, count: number): Promise<string[]> {
  const bodies: string[] = [];
  await waitFor(`${count} message(s) at api`, async () => {
    const answer = await api.call('relay_poll');
    if (answer.isError) throw new Error(answer.text);
    for (const line of answer.text.split('\n').filter((l) => l.startsWith('  ['))) {
      bodies.push(line.replace(/^ {2}\[info\|laptop\] From web: #[a-z0-9]{6} /, ''));
    }
    return bodies.length >= count;
  });
  return bodies;
}

async function outboxLeft(home: string): Promise<number> {
  return (await fs.readdir(path.join(home, 'outbox', 'web')).catch(() => [])).length;
}

async function send(web: Served, message: string): Promise<string> {
  const answer = await web.call('relay_send', { to: 'server-2:api', message });
  expect(answer.isError, answer.text).toBe(false);
  return answer.text;
}

describe('relay start order', () => {
  it('INV-REMOTE-OUTBOX: 5 sends made before the relay ever started are all delivered once it starts', async () => {
    const data = await tempDir();
    const laptop = await addKey(data, 'laptop');
    const server = await addKey(data, 'server-2');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const webHome = await tempDir();
    const api = await serveAs('api', url, server);
    const web = await serveAs('web', url, laptop, { home: webHome });
    const sent = ['one', 'two', 'three', 'four', 'five'];
    for (const m of sent)
      expect(await send(web, m)).toMatch(
        /^Queued #[a-z0-9]{6} for server-2:api \(relay unreachable; retrying\)\.$/,
      );

    await startRelay({ data, port });
    const delivered = await takeAll(api, sent.length);
    await waitFor('the outbox to empty', async () => ((await outboxLeft(webHome)) === 0 ? true : undefined));
    expect((await api.call('relay_poll')).text).toBe('No new messages.');
    expect(delivered).toEqual(sent);
    process.stderr.write(
      `start-order: sent ${sent.length}, delivered ${delivered.length}, duplicated ${delivered.length - new Set(delivered).size}\n`,
    );
  });

  it('INV-REMOTE-ONCE: 20 sends across two relay restarts (kill -9) are each delivered once', async () => {
    const data = await tempDir();
    const laptop = await addKey(data, 'laptop');
    const server = await addKey(data, 'server-2');
    let relay: RelayProc = await startRelay({ data });
    const webHome = await tempDir();
    const api = await serveAs('api', relay.url, server);
    const web = await serveAs('web', relay.url, laptop, { home: webHome });
    const sent: string[] = [];
    const batch = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const m = `m${sent.length}`;
        sent.push(m);
        await send(web, m);
      }
    };
    await batch(5);
    for (let restart = 0; restart < 2; restart++) {
      await relay.child.stop('SIGKILL');
      await batch(5);
      relay = await startRelay({ data, port: relay.port });
    }
    await batch(5);
    const delivered = await takeAll(api, sent.length);
    await waitFor('the outbox to empty', async () => ((await outboxLeft(webHome)) === 0 ? true : undefined));
    expect((await api.call('relay_poll')).text).toBe('No new messages.');
    expect([...delivered].sort()).toEqual([...sent].sort());
    process.stderr.write(
      `restarts: sent ${sent.length}, delivered ${delivered.length}, duplicated ${delivered.length - new Set(delivered).size}\n`,
    );
  });

  it('a send to a machine:name that has not joined yet waits and is delivered when that session starts', async () => {
    const data = await tempDir();
    const laptop = await addKey(data, 'laptop');
    const server = await addKey(data, 'server-2');
    const relay = await startRelay({ data });
    const web = await serveAs('web', relay.url, laptop);
    expect(await send(web, 'for later')).toMatch(
      /^Queued #[a-z0-9]{6} for server-2:api: no session of that name has joined yet\.$/,
    );
    const api = await serveAs('api', relay.url, server);
    expect(await takeAll(api, 1)).toEqual(['for later']);
  });
});

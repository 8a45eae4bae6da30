import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/remote/keys.js';
import { defer, tempDir } from '../support/cleanup.js';
import { runCli } from '../support/processes.js';
import { addKey, pollLines, type RelayProc, serveAs, startRelay } from '../support/remote.js';
import type { Served } from '../support/stdio.js';
import { waitFor } from '../support/wait.js';
import { FaultProxy } from './proxy.js';

/**
 * The fault list of the remote relay, with real relay processes, real `serve` processes and a fault proxy,
 * all on 127.0.0.1: nothing lost, nothing delivered twice, every refusal a clear answer.
 */

interface World {
  data: string;
  laptopKey: string;
  serverKey: string;
  webHome: string;
  relay: RelayProc;
}

async function world(options: { leaseSeconds?: number } = {}): Promise<World> {
  const data = await tempDir();
  const laptopKey = await addKey(data, 'laptop');
  const serverKey = await addKey(data, 'server-2');
  const relay = await startRelay({ data, ...options });
  return { data, laptopKey, serverKey, webHome: await tempDir(), relay };
}

/** `api` on server-2, in a home of its own, reaching the relay through `url` (the relay, or a fault proxy). */
async function startApi(w: World, url = w.relay.url): Promise<Served> {
  return serveAs('api', url, w.serverKey);
}

/** `web` on the laptop, in the world's laptop home (so a restarted `web` finds its outbox again). */
function startWeb(w: World, url = w.relay.url, key = w.laptopKey): Promise<Served> {
  return serveAs('web', url, key, { home: w.webHome });
}

async function lists(served: Served, address: string): Promise<void> {
  await waitFor(`${address} to be listed`, async () =>
    (await served.call('relay_sessions')).text.includes(`- ${address} — `) ? true : undefined,
  );
}

async function outboxFiles(home: string, from: string): Promise<string[]> {
  return fs.readdir(path.join(home, 'outbox', from)).catch(() => []);
}

async function forwarded(home: string, from: string): Promise<Record<string, unknown>[]> {
  const dir = path.join(home, 'forwarded', from);
  const files = await fs.readdir(dir).catch(() => []);
  return Promise.all(files.map(async (f) => JSON.parse(await fs.readFile(path.join(dir, f), 'utf8'))));
}

const QUEUED = /^Queued #([a-z0-9]{6}) for server-2:api \(relay unreachable; retrying\)\.$/;

describe('remote relay faults', () => {
  it('INV-REMOTE-OUTBOX: relay down at send time: queued at once, kept across a restart of the sender, delivered once when the relay is back', async () => {
    const w = await world();
    const api = await startApi(w);
    let web = await startWeb(w);
    await lists(web, 'server-2:api');
    await w.relay.child.stop('SIGKILL');

    const sent = await web.call('relay_send', {
      to: 'server-2:api',
      message: 'deploy when green',
      type: 'request',
    });
    expect(sent.isError).toBe(false);
    const id = QUEUED.exec(sent.text)?.[1];
    expect(id, sent.text).toBeDefined();
    expect(await outboxFiles(w.webHome, 'web')).toHaveLength(1);
    const status = await runCli(['status'], {
      env: {
        RELAY_HOME: w.webHome,
        RELAY_MACHINE_NAME: 'laptop',
        RELAY_REMOTE_URL: w.relay.url,
        RELAY_API_KEY: w.laptopKey,
      },
    });
    expect(status.stdout).toContain(`remote relay: ${w.relay.url} unreachable`);
    expect(status.stdout).toContain('1 send(s) waiting in the outbox');

    // The sender dies with the send still waiting: the outbox is in its log, so a new server sends it.
    await web.kill();
    web = await startWeb(w);
    await startRelay({ data: w.data, port: w.relay.port });

    expect(await pollLines(api, 1)).toEqual([`  [request|laptop] From web: #${id} deploy when green`]);
    await waitFor('the outbox to empty', async () =>
      (await outboxFiles(w.webHome, 'web')).length === 0 ? true : undefined,
    );
    expect(await forwarded(w.webHome, 'web')).toEqual([
      expect.objectContaining({ kind: 'forwarded', outcome: 'delivered', to: 'server-2:api' }),
    ]);
    expect((await api.call('relay_poll')).text).toBe('No new messages.');
  });

  it('INV-REMOTE-ONCE: the answer to a send is lost after the relay stored it: the retry with the same key is not stored twice', async () => {
    const w = await world();
    const proxy = await FaultProxy.start(w.relay.url);
    defer(() => proxy.stop());
    const api = await startApi(w);
    const web = await startWeb(w, proxy.url);
    await lists(web, 'server-2:api');
    const sendPath = /^\/v1\/sessions\/server-2\/api\/messages$/;
    proxy.inject('POST', sendPath, 'lose-answer');

    const sent = await web.call('relay_send', { to: 'server-2:api', message: 'exactly once please' });
    const id = QUEUED.exec(sent.text)?.[1];
    expect(id, sent.text).toBeDefined();
    await waitFor('the retry to be answered', () =>
      proxy.count('POST', sendPath, 200) === 1 ? true : undefined,
    );
    expect(proxy.count('POST', sendPath, 'lose-answer')).toBe(1);
    await waitFor('the outcome to be recorded', async () =>
      (await forwarded(w.webHome, 'web')).length === 1 ? true : undefined,
    );
    expect(await forwarded(w.webHome, 'web')).toEqual([
      expect.objectContaining({ outcome: 'delivered', duplicate: true }),
    ]);
    expect(await pollLines(api, 1)).toEqual([`  [info|laptop] From web: #${id} exactly once please`]);
    expect((await api.call('relay_poll')).text).toBe('No new messages.');
  });

  it('INV-REMOTE-ONCE / INV-REMOTE-ORDER: the relay restarted in the middle of a long-poll: nothing lost, nothing doubled, order kept', async () => {
    const w = await world();
    const proxy = await FaultProxy.start(w.relay.url);
    defer(() => proxy.stop());
    const api = await startApi(w, proxy.url);
    const web = await startWeb(w);
    await lists(web, 'server-2:api');
    const pollPath = /\/v1\/sessions\/server-2\/api\/poll$/;
    await waitFor('a long-poll to be waiting at the relay', () =>
      proxy.inFlight(pollPath) > 0 ? true : undefined,
    );
    await w.relay.child.stop('SIGKILL');
    await waitFor('the cut long-poll to end', () =>
      proxy.count('POST', pollPath, 'relay-down') > 0 ? true : undefined,
    );
    await startRelay({ data: w.data, port: w.relay.port });

    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const sent = await web.call('relay_send', { to: 'server-2:api', message: `step ${n}` });
      ids.push(/^Sent #([a-z0-9]{6}) to server-2:api\.$/.exec(sent.text)?.[1] ?? sent.text);
    }
    expect(await pollLines(api, 3)).toEqual(
      ids.map((id, i) => `  [info|laptop] From web: #${id} step ${i + 1}`),
    );
    expect((await api.call('relay_poll')).text).toBe('No new messages.');
  });

  it('INV-REMOTE-ONCE: polled messages whose ack never reached the relay are handed out again, and shown once', async () => {
    const w = await world({ leaseSeconds: 1 });
    const proxy = await FaultProxy.start(w.relay.url);
    defer(() => proxy.stop());
    const ackPath = /\/v1\/sessions\/server-2\/api\/ack$/;
    proxy.inject('POST', ackPath, 'cut');
    const api = await startApi(w, proxy.url);
    const web = await startWeb(w);
    await lists(web, 'server-2:api');

    const sent = await web.call('relay_send', { to: 'server-2:api', message: 'only once' });
    const id = /^Sent #([a-z0-9]{6})/.exec(sent.text)?.[1];
    expect(await pollLines(api, 1)).toEqual([`  [info|laptop] From web: #${id} only once`]);
    // The lease ran out, the relay handed the message out again, and this time the ack went through.
    await waitFor('the second ack', () => (proxy.count('POST', ackPath, 200) === 1 ? true : undefined));
    expect(proxy.count('POST', ackPath, 'cut')).toBe(1);
    const polledWithMessage = proxy.seen.filter((s) => /\/poll$/.test(s.path) && s.outcome === 200).length;
    expect(polledWithMessage).toBeGreaterThanOrEqual(2);
    expect((await api.call('relay_poll')).text).toBe('No new messages.');
  });

  it('INV-REMOTE-AUTH: a revoked key leaves sends waiting, with the reason; a new key delivers them', async () => {
    const w = await world();
    const api = await startApi(w);
    await waitFor('server-2:api to be known', async () => {
      const res = await fetch(`${w.relay.url}/v1/sessions`, {
        headers: { authorization: `Bearer ${w.serverKey}` },
      });
      return (await res.text()).includes('"name":"api"') ? true : undefined;
    });
    await new KeyRing(path.join(w.data, 'keys.json')).revoke('laptop');
    let web = await startWeb(w);
    const sent = await web.call('relay_send', { to: 'server-2:api', message: 'after the fix' });
    expect(sent.text).toMatch(
      /^Queued #[a-z0-9]{6} for server-2:api \(the relay refused this machine's API key; it waits until RELAY_API_KEY and RELAY_MACHINE_NAME are fixed\)\.$/,
    );
    // Another machine's key does not help either: it is bound to server-2.
    await web.close();
    web = await startWeb(w, w.relay.url, w.serverKey);
    const again = await web.call('relay_send', { to: 'server-2:api', message: 'second try' });
    expect(again.text).toContain("the relay refused this machine's API key");
    expect(await outboxFiles(w.webHome, 'web')).toHaveLength(2);
    await web.close();
    const fresh = await addKey(w.data, 'laptop');
    web = await serveAs('web', w.relay.url, fresh, { home: w.webHome });
    const lines = await pollLines(api, 2);
    expect(lines.map((l) => l.replace(/#[a-z0-9]{6} /, ''))).toEqual([
      '  [info|laptop] From web: after the fix',
      '  [info|laptop] From web: second try',
    ]);
    expect(w.relay.log()).not.toContain(w.laptopKey);
    expect(w.relay.log()).not.toContain(fresh);
  });

  it('INV-REMOTE-OUTBOX: a send to a session that never joins waits, and comes back to the sender as a notice when its TTL runs out', async () => {
    const w = await world();
    const web = await serveAs('web', w.relay.url, w.laptopKey, {
      home: w.webHome,
      env: { RELAY_TTL_SECONDS: '2' },
    });
    // Not refused: a session of that name may start later (a relay restarted, a machine not up yet).
    const queued = await web.call('relay_send', { to: 'server-2:ghost', message: 'anyone?' });
    const id = /^Queued #([a-z0-9]{6}) for server-2:ghost: no session of that name has joined yet\.$/.exec(
      queued.text,
    )?.[1];
    expect(id, queued.text).toBeDefined();
    const [notice] = await pollLines(web, 1);
    expect(notice).toBe(
      `  [info|relay] From relay: ${notice?.slice(27, 34)} re #${id} Could not deliver #${id} to server-2:ghost: no session of that name joined before the message expired (its TTL ran out).`,
    );
    expect(notice?.slice(27, 34)).toMatch(/^#[a-z0-9]{6}$/);
    expect(await forwarded(w.webHome, 'web')).toEqual([
      expect.objectContaining({ outcome: 'refused', to: 'server-2:ghost' }),
    ]);
  });
});

import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DashboardFeed } from '../../src/dashboard/feed.js';
import { startDashboardServer } from '../../src/dashboard/server.js';
import { readDashboard } from '../../src/relay/dashboard.js';
import { sendMessage } from '../../src/relay/send.js';
import { useHome } from '../support/home.js';

const home = useHome();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function served(name = 'user') {
  const ctx = home.context(name);
  const feed = new DashboardFeed({ ctx, problems: home.problems, scanMs: 50 });
  await feed.start();
  const token = 'test-token-123';
  const { server, port } = await startDashboardServer({
    port: 0,
    token,
    feed,
    send: async (input) => {
      const { event, live } = await sendMessage(ctx, input);
      return { id: event.id, to: event.to, live };
    },
  });
  closers.push(async () => {
    feed.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { feed, base: `http://127.0.0.1:${port}`, token, port };
}

function post(base: string, token: string, body: unknown, type = 'application/json') {
  return fetch(`${base}/api/send?t=${token}`, {
    method: 'POST',
    headers: { 'Content-Type': type },
    body: JSON.stringify(body),
  });
}

describe('the dashboard over its store', () => {
  it('says why a store cannot be read instead of showing an empty view', async () => {
    const file = path.join(home.root, 'not-a-dir');
    await fs.writeFile(file, 'x');
    const ctx = home.context('user', { config: { ...home.context('user').config, root: file } });
    const view = await readDashboard(ctx);
    expect(view.error).toMatch(/not-a-dir/);
    expect(view.messages).toBeUndefined();
  });

  it('lists what clean moved aside and the files the log skipped, and takes nothing from an inbox', async () => {
    await home.start('bob');
    const { event } = await sendMessage(home.context('user'), { to: 'bob', message: 'hi' });
    await fs.mkdir(path.join(home.root, 'quarantine/inbox/bob'), { recursive: true });
    await fs.writeFile(path.join(home.root, 'quarantine/inbox/bob/junk.json'), '{');
    await fs.writeFile(path.join(home.root, 'inbox/bob/0000000000000-00000000-zzzzzz.json'), '{');
    const ctx = home.context('user');
    const view = await readDashboard(ctx, { problems: home.problems });
    expect(view.quarantined).toEqual(['inbox/bob/junk.json']);
    expect(view.problems.map((p) => path.basename(p.file))).toContain('0000000000000-00000000-zzzzzz.json');
    expect(view.messages?.map((m) => [m.id, m.state])).toEqual([[event.id, 'queued']]);
    expect(await ctx.store.readSettled('bob', event.key)).toBeUndefined();
    expect(await ctx.store.inboxKeys('bob')).toContain(event.key);
  });
});

describe('the dashboard server', () => {
  it('sends as user from compose, and the next view shows it', async () => {
    await home.start('bob');
    const { feed, base, token } = await served();
    const res = await post(base, token, { to: 'bob', message: 'from the page', type: 'request' });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { id: string; to: string; live: boolean };
    expect(answer).toMatchObject({ to: 'bob', live: true });
    await feed.refresh();
    const row = feed.view?.messages?.find((m) => m.id === answer.id);
    expect(row).toMatchObject({
      from: 'user',
      to: 'bob',
      type: 'request',
      state: 'queued',
      body: 'from the page',
    });
  });

  it('refuses a compose it cannot send, in one sentence, and sends nothing', async () => {
    const { feed, base, token } = await served();
    // A name that never joined is not refused (the message waits for it); a name that cannot be one is.
    const bad = await post(base, token, { to: '../x', message: 'x' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^Expected `to` to be a session name/);
    expect((await post(base, token, { to: 'bob' })).status).toBe(400);
    expect((await post(base, token, { to: 'bob', message: 'x' }, 'text/plain')).status).toBe(415);
    await feed.refresh();
    expect(feed.view?.messages).toEqual([]);
  });

  it('answers only with the token and only as 127.0.0.1 or localhost', async () => {
    const { base, token, port } = await served();
    expect((await fetch(`${base}/api/view`)).status).toBe(401);
    expect((await post(base, 'wrong', { to: 'bob', message: 'x' })).status).toBe(401);
    expect((await fetch(`${base}/api/view?t=${token}`)).status).toBe(200);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port, path: `/api/view?t=${token}`, headers: { Host: `evil.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on('error', reject);
    });
    expect(status).toBe(421);
  });

  it('filters the messages endpoint by session and state, and names a bad state', async () => {
    await home.start('bob');
    await home.start('carol');
    const user = home.context('user');
    await sendMessage(user, { to: 'bob', message: 'one' });
    await sendMessage(user, { to: 'carol', message: 'two' });
    const { base, token, feed } = await served();
    await feed.refresh();
    const list = async (q: string) =>
      (await (await fetch(`${base}/api/messages?t=${token}${q}`)).json()) as {
        messages?: { body: string }[];
        error?: string;
      };
    expect((await list('&session=carol')).messages?.map((m) => m.body)).toEqual(['two']);
    expect((await list('&state=queued')).messages?.map((m) => m.body)).toEqual(['two', 'one']);
    expect((await list('&state=returned')).messages).toEqual([]);
    expect((await list('&state=lost')).error).toMatch(/^Expected state to be one of queued, handed/);
  });
});

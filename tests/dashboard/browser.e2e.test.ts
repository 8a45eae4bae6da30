import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium.js';
import { defer, keepForFile, tempDir } from '../support/cleanup.js';
import { childEnv } from '../support/env.js';
import { CLI, REPO } from '../support/paths.js';
import { runCli, serve } from '../support/processes.js';
import type { Served } from '../support/stdio.js';

/**
 * The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core. Three live
 * `serve` processes and a request/response thread in a temp store; the page must show them, follow a send
 * made after it loaded, show a body holding markup as text, and the server must refuse a request without
 * its token. Each run leaves a screenshot in tests/artifacts/ (not committed).
 */
const ARTIFACTS = path.join(REPO, 'tests/artifacts');
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> run this';

let home: string;
let dashboard: ChildProcess;
let url: string;
let browser: BrowserContext;
let page: Page;
let requestId: string;
let responseId: string;
const sessions: Served[] = [];

function idOf(text: string): string {
  const m = /#([a-z0-9]{6})/.exec(text);
  if (!m) throw new Error(`no message id in ${JSON.stringify(text)}`);
  return m[1] as string;
}

/** Starts `claude-relay dashboard` and resolves the URL it prints. */
function startDashboard(env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'dashboard', '--port', '0'], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dashboard = child;
  defer(() => {
    child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  dashboard.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    dashboard.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /^(http:\/\/127\.0\.0\.1:\d+\/\?t=[A-Za-z0-9_-]+)$/m.exec(out);
      if (line) resolve(line[1] as string);
    });
    dashboard.once('exit', (code) => reject(new Error(`dashboard exited with ${code}: ${err}`)));
  });
}

beforeAll(() => keepForFile(setUp));

async function setUp(): Promise<void> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `No browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.`,
    );
  home = await tempDir('relay-dash-');
  for (const name of ['alpha', 'beta', 'gamma']) sessions.push(await serve({ home, name }));
  const [alpha, beta] = sessions as [Served, Served, Served];
  requestId = idOf(
    (await alpha.call('relay_send', { to: 'beta', message: 'Can you run the suite?', type: 'request' })).text,
  );
  expect((await beta.call('relay_poll')).text).toContain('Can you run the suite?');
  responseId = idOf(
    (
      await beta.call('relay_send', {
        to: 'alpha',
        message: 'All 212 pass.',
        type: 'response',
        reply_to: requestId,
      })
    ).text,
  );
  const hostile = await runCli(['send', 'gamma', HOSTILE], { env: { RELAY_HOME: home } });
  expect(hostile.code).toBe(0);
  url = await startDashboard({ RELAY_HOME: home });
  browser = await chromium.launchPersistentContext(await tempDir('relay-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: CHROMIUM_ARGS,
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(url);
  await page.waitForSelector('.msg');
}

afterAll(async () => {
  if (page) {
    await fs.mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true }).catch(() => {});
  }
  await browser?.close();
});

describe('the dashboard page, in chromium', () => {
  it('shows the three live sessions under their machine', async () => {
    const machine = page.locator('.machine[data-machine="testhost"]');
    for (const name of ['alpha', 'beta', 'gamma'])
      await expect.poll(() => machine.locator(`tr[data-session="${name}"]`).count()).toBe(1);
    // gamma has the one unread message; the others have read theirs or have one waiting.
    await expect
      .poll(() => machine.locator('tr[data-session="gamma"] td.num').last().textContent())
      .toBe('1');
    await expect.poll(() => machine.locator('tr[data-session="alpha"] .badge').textContent()).toBe('asks');
  });

  it('shows the request and its response together as one thread, with their states', async () => {
    const request = page.locator(`.msg[data-id="${requestId}"]`);
    const response = page.locator(`.msg[data-id="${responseId}"]`);
    await expect.poll(() => request.getAttribute('data-state')).toBe('returned');
    expect(await request.locator('.state').textContent()).toMatch(/^returned to the model via poll in \d+/);
    expect(await request.locator('.route').textContent()).toBe('alpha → beta');
    expect(await response.getAttribute('data-state')).toBe('queued');
    expect(await response.locator('.re').textContent()).toBe(` re #${requestId}`);
    const thread = page.locator('.thread', { has: request });
    expect(
      await thread
        .locator('.msg')
        .evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { id?: string } }).dataset.id)),
    ).toEqual([requestId, responseId]);
  });

  it('shows a body holding markup as text, and runs none of it', async () => {
    const row = page.locator('.msg', { hasText: 'run this' });
    expect(await row.locator('.body').textContent()).toBe(HOSTILE);
    expect(await page.locator('#messages script, #messages img').count()).toBe(0);
    expect(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
  });

  it('shows a message sent after the page loaded, without a reload', async () => {
    await page.evaluate(() => {
      (globalThis as unknown as { __sameLoad: boolean }).__sameLoad = true;
    });
    const sent = await runCli(['send', 'alpha', 'sent after the page loaded'], {
      env: { RELAY_HOME: home },
    });
    expect(sent.code).toBe(0);
    const row = page.locator(`.msg[data-id="${idOf(sent.stdout)}"]`);
    await row.waitFor();
    expect(await row.locator('.body').textContent()).toBe('sent after the page loaded');
    expect(await row.getAttribute('data-state')).toBe('queued');
    expect(await page.evaluate(() => (globalThis as unknown as { __sameLoad?: boolean }).__sameLoad)).toBe(
      true,
    );
  });

  it('refuses a request without the token, or with a wrong one, in one sentence', async () => {
    const base = new URL(url);
    for (const target of [`${base.origin}/`, `${base.origin}/api/view`, `${base.origin}/api/view?t=wrong`]) {
      const res = await fetch(target);
      expect(res.status).toBe(401);
      expect(await res.text()).toMatch(/^This dashboard needs its token: .*\.\n$/);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    const ok = await fetch(`${base.origin}/api/sessions`, {
      headers: { Authorization: `Bearer ${base.searchParams.get('t')}` },
    });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { machines: { sessions: { name: string }[] }[] };
    expect(body.machines.flatMap((m) => m.sessions.map((s) => s.name))).toEqual(['alpha', 'beta', 'gamma']);
  });
});

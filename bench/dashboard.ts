import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../tests/support/chromium.js';
import { CLI } from './stdio.js';
import { TempDirs } from './temp.js';

/**
 * The dashboard, measured in Debian's chromium: the page's size and load time, and the time from a send to
 * its row on the page (from an MCP session, and from `claude-relay send` at a terminal, process start
 * included). `--screenshot FILE` also saves the page as the README shows it.
 *   npm run build && node build/bench/dashboard.js [--runs 10] [--screenshot docs/dashboard.png]
 */

interface Session {
  name: string;
  client: Client;
  call(tool: string, args?: Record<string, unknown>): Promise<string>;
}

async function session(home: string, name: string, client: [string, string]): Promise<Session> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      RELAY_HOME: home,
      RELAY_SESSION_NAME: name,
      RELAY_PUSH: 'off',
    },
    cwd: path.join(path.dirname(home), 'projects', name),
    stderr: 'ignore',
  });
  const c = new Client({ name: client[0], version: client[1] });
  await c.connect(transport);
  return {
    name,
    client: c,
    async call(tool, args = {}) {
      const r = await c.callTool({ name: tool, arguments: args });
      return (r.content as { text?: string }[]).map((x) => x.text ?? '').join('\n');
    },
  };
}

const idOf = (text: string) => /#([a-z0-9]{6})/.exec(text)?.[1] ?? '';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '10' }, screenshot: { type: 'string' } },
  });
  const runs = Number(values.runs);
  const temps = new TempDirs();
  const base = await temps.make('dashboard');
  const home = path.join(base, 'store');
  for (const n of ['api', 'web', 'docs', 'worker'])
    await fs.mkdir(path.join(base, 'projects', n), { recursive: true });
  const env = { ...process.env, RELAY_HOME: home };
  const sessions: Session[] = [];
  let dashboard: ChildProcess | undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const [api, web, docs] = [
      await session(home, 'api', ['claude-code', '2.1.230']),
      await session(home, 'web', ['claude-code', '2.1.230']),
      await session(home, 'docs', ['gemini-cli', '0.9.0']),
    ];
    sessions.push(api, web, docs, await session(home, 'worker', ['codex-mcp-client', '0.48.0']));
    const req = idOf(
      await web.call('relay_send', {
        to: 'api',
        type: 'request',
        message: 'Does GET /users still page by 50? The table shows 20.',
      }),
    );
    await api.call('relay_poll');
    await api.call('relay_send', {
      to: 'web',
      type: 'response',
      reply_to: req,
      message: 'It pages by 20 since v2.3; pass ?limit=50 for the old size.',
    });
    await web.call('relay_poll', { wait: 1 });
    await docs.call('relay_send', {
      to: 'api',
      message: 'Changelog for v2.4 is drafted in docs/changelog.md.',
    });
    execFileSync(
      process.execPath,
      [CLI, 'send', 'worker', 'Please rebase the migration branch on main before lunch.'],
      { env },
    );
    dashboard = spawn(process.execPath, [CLI, 'dashboard'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    const url = await new Promise<string>((resolve) => {
      let out = '';
      dashboard?.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^(http\S+)$/m.exec(out);
        if (m) resolve(m[1] as string);
      });
    });
    const t = new URL(url).searchParams.get('t') ?? '';
    let bytes = 0;
    for (const p of ['/', '/app.js', '/app.css', '/api/view'])
      bytes += (await (await fetch(new URL(`${p}?t=${t}`, url))).arrayBuffer()).byteLength;

    const loads: number[] = [];
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      await page.goto(url);
      await page.waitForSelector('.msg');
      loads.push(Date.now() - t0);
    }
    if (values.screenshot) {
      await page.goto(url);
      await page.waitForSelector('.msg');
      await page.screenshot({ path: values.screenshot, fullPage: true });
    }
    const toRow = async (send: (marker: string) => Promise<unknown>, marker: string) => {
      // A string, not a function: this module is compiled without the DOM's types.
      const seen = page.evaluate(`new Promise((resolve) => {
        const check = () => [...document.querySelectorAll('.msg .body')].some((b) => b.textContent === ${JSON.stringify(marker)});
        new MutationObserver(() => check() && resolve(Date.now())).observe(document.body, { childList: true, subtree: true });
      })`) as Promise<number>;
      const t0 = Date.now();
      await send(marker);
      return (await seen) - t0;
    };
    const viaMcp: number[] = [];
    for (let i = 0; i < runs; i++)
      viaMcp.push(await toRow((m) => web.call('relay_send', { to: 'docs', message: m }), `mcp ${i}`));
    const viaCli: number[] = [];
    for (let i = 0; i < Math.min(runs, 5); i++)
      viaCli.push(
        await toRow(
          async (m) => execFileSync(process.execPath, [CLI, 'send', 'docs', m], { env }),
          `cli ${i}`,
        ),
      );
    const version = execFileSync(CHROMIUM, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    process.stdout.write(
      `${[
        `browser: ${version}`,
        `page size: ${bytes} bytes (html + js + css + first view as JSON)`,
        `load to first rendered row: median ${median(loads)} ms of ${loads.length} (${loads.join(', ')})`,
        `send (MCP relay_send) to row on the page: median ${median(viaMcp)} ms of ${viaMcp.length} (max ${Math.max(...viaMcp)})`,
        `send (claude-relay send, process start included) to row: median ${median(viaCli)} ms of ${viaCli.length} (max ${Math.max(...viaCli)})`,
      ].join('\n')}\n`,
    );
  } finally {
    await browser.close();
    dashboard?.kill();
    for (const s of sessions) await s.client.close().catch(() => {});
    await temps.removeAll();
  }
}

await main();

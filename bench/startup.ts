import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { REPO } from '../tests/support/paths.js';
import { track, untrack } from './children.js';
import { type BenchContext, reps } from './context.js';
import { type Figures, judge, round } from './figures.js';
import { monoMs, summarize } from './stats.js';
import { MINIMAL_SERVER, startServe, startStdio } from './stdio.js';

/**
 * Start-up of `serve`: spawn → initialize → tools/list answered, over real stdio, on an empty store. Beside
 * it, the same for a minimal server on the same SDK (the floor `serve` cannot go below without leaving the
 * SDK), and node itself starting and exiting an empty script. Runs are interleaved so drift hits all three.
 */
export function nodeAlone(): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = monoMs();
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    track(child.pid);
    child.on('error', reject);
    child.on('exit', () => {
      untrack(child.pid);
      resolve(monoMs() - start);
    });
  });
}

export async function measureStartup(ctx: BenchContext): Promise<Figures> {
  const runs = reps(ctx, 15, 2);
  const store = await ctx.tmp.make('startup');
  const serve: number[] = [];
  const minimal: number[] = [];
  const node: number[] = [];
  ctx.progress(`start-up: ${runs} runs each of serve, a minimal SDK server and node alone`);
  for (let i = 0; i < runs; i++) {
    let t = monoMs();
    const s = await startServe({ store, name: 'bench' });
    await s.client.listTools();
    serve.push(monoMs() - t);
    await s.close();

    t = monoMs();
    const m = await startStdio({ args: [MINIMAL_SERVER] });
    await m.client.listTools();
    minimal.push(monoMs() - t);
    await m.close();

    node.push(await nodeAlone());
  }
  await ctx.tmp.remove(store);
  const s = summarize(serve);
  const m = summarize(minimal);
  const n = summarize(node);
  const npx = await measureNpx(ctx);
  return {
    ...npx,
    'startup.serve': {
      label: 'start-up of serve: spawn → tools/list answered (empty store)',
      unit: 'ms',
      value: s.median,
      p99: s.p99,
      runs: s.runs,
      beside: { label: 'minimal SDK stdio server', value: m.median, p99: m.p99, unit: 'ms' },
      bar: judge(s.median, '<=', 1.8 * n.median, 'ms', `≤ 1.8× node alone (${round(1.8 * n.median)} ms)`),
      note: `node alone (spawn → exit of an empty script): ${round(n.median)} ms median, p99 ${round(n.p99)} ms. serve is the bundle that ships (dist/serve.js, one file) and answers while its join (heartbeat and name claim, each fsynced) is written; the minimal server is the SDK unbundled`,
    },
  };
}

/** Spawn → `tools/list` answered, over stdio, of any command (npx here), in ms. */
async function timeToTools(command: string, args: string[], env: Record<string, string>): Promise<number> {
  const start = monoMs();
  const transport = new StdioClientTransport({ command, args, env, stderr: 'ignore' });
  const client = new Client({ name: 'claude-relay-bench', version: '1' });
  await client.connect(transport);
  track(transport.pid ?? undefined);
  await client.listTools();
  const ms = monoMs() - start;
  untrack(transport.pid ?? undefined);
  await client.close();
  return ms;
}

/**
 * `npx -y file:<tarball> serve`, as a client configured with npx starts it: the package packed as it would
 * be published, then started with an empty npm cache (cold: npx unpacks it first) and again (warm).
 */
async function measureNpx(ctx: BenchContext): Promise<Figures> {
  const dir = await ctx.tmp.make('npx');
  const name = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], {
    cwd: REPO,
    encoding: 'utf8',
  }).trim();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    npm_config_cache: path.join(dir, 'npm-cache'),
    npm_config_update_notifier: 'false',
    RELAY_HOME: path.join(dir, 'relay'),
    RELAY_SESSION_NAME: 'bench',
  };
  const args = ['-y', `file:${path.join(dir, name)}`, 'serve'];
  const cold: number[] = [];
  const warm: number[] = [];
  ctx.progress(`start-up through npx of the packed tarball (${name})`);
  for (let i = 0; i < reps(ctx, 3, 1); i++) {
    cold.push(await timeToTools('npx', args, { ...env, npm_config_cache: path.join(dir, `npm-cache-${i}`) }));
    warm.push(await timeToTools('npx', args, { ...env, npm_config_cache: path.join(dir, `npm-cache-${i}`) }));
  }
  for (let i = 0; i < reps(ctx, 4, 1); i++) warm.push(await timeToTools('npx', args, env));
  await ctx.tmp.remove(dir);
  const c = summarize(cold);
  const w = summarize(warm);
  const label = (how: string) => `npx -y file:<tarball> serve, ${how}: spawn → tools/list answered`;
  return {
    'startup.npxCold': {
      label: label('empty npm cache'),
      unit: 'ms',
      value: c.median,
      p99: c.p99,
      runs: c.runs,
    },
    'startup.npxWarm': {
      label: label('second start'),
      unit: 'ms',
      value: w.median,
      p99: w.p99,
      runs: w.runs,
    },
  };
}

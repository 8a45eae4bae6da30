import { spawn } from 'node:child_process';
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
  return {
    'startup.serve': {
      label: 'start-up of serve: spawn → tools/list answered (empty store)',
      unit: 'ms',
      value: s.median,
      p99: s.p99,
      runs: s.runs,
      beside: { label: 'minimal SDK stdio server', value: m.median, p99: m.p99, unit: 'ms' },
      bar: judge(s.median, '<=', 150, 'ms'),
      note: `node alone (spawn → exit of an empty script): ${round(n.median)} ms median, p99 ${round(n.p99)} ms. Why: loading the MCP SDK (and zod) is most of the minimal server's time; serve adds its own modules and a durable join (heartbeat and name claim, each fsynced)`,
    },
  };
}

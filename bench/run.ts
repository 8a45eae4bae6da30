import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAll } from './children.js';
import { measureClean } from './clean.js';
import type { BenchContext } from './context.js';
import { type Figures, FULL_SIZES, figureKeys, isProduced, QUICK_SIZES } from './figures.js';
import { idleFigures } from './idle.js';
import { measureLatency } from './latency.js';
import { measureMemory } from './memory.js';
import { measurePollScaling } from './poll-scaling.js';
import { measureRelay } from './relay.js';
import { type BenchResult, renderMarkdown, writeResults } from './report.js';
import { measureScale, SCALE_STEPS } from './scale.js';
import { measureSessions } from './sessions.js';
import { measureStartup } from './startup.js';
import { monoMs } from './stats.js';
import { measureStrategies } from './strategies.js';
import { TempDirs } from './temp.js';
import { measureThroughput } from './throughput.js';
import { checkTokenizer, freeTokenizer } from './tokenize.js';
import { measureTokens } from './tokens.js';

/**
 * `npm run bench [-- --quick] [-- --out DIR]`: runs every measurement once, in an isolated temp store,
 * prints the table, and writes DIR/<date>.json and DIR/latest.md. DIR defaults to bench/results for a full
 * run and to the uncommitted bench/results/quick for a quick one, so a quick run never replaces the
 * committed full-size results. `--scale` adds the simulated-sessions steps (minutes; scale.ts).
 */
const USAGE = 'usage: node build/bench/run.js [--quick] [--scale] [--out DIR]';
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_OUT = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const QUICK_OUT = fileURLToPath(new URL('../../bench/results/quick/', import.meta.url));

function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    return dirty.trim() === '' ? sha : `${sha} + uncommitted src changes`;
  } catch {
    return 'unknown';
  }
}

function loadAverage(): string {
  return (os.loadavg()[0] ?? 0).toFixed(2);
}

function environment(loadStart: string): Record<string, string | number> {
  return {
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cpus: os.cpus().length,
    // Other work on the machine moves every timing; the 1-minute load average says how much there was.
    loadStart,
    loadEnd: loadAverage(),
    commit: commit(),
  };
}

async function measureAll(ctx: BenchContext): Promise<{ figures: Figures; texts: Record<string, string> }> {
  const phase = async <T>(name: string, task: () => Promise<T>): Promise<T> => {
    const start = monoMs();
    ctx.progress(`${name}…`);
    const result = await task();
    ctx.progress(`${name} done in ${((monoMs() - start) / 1000).toFixed(1)} s`);
    return result;
  };
  checkTokenizer('Take your new messages; each is returned once.');
  const tokenRun = await phase('tokens', () => measureTokens(ctx));
  const strategies = await phase('delivery strategies', () => measureStrategies(ctx, tokenRun));
  const idle = idleFigures(tokenRun.figures, strategies);
  const startup = await phase('start-up', () => measureStartup(ctx));
  const latency = await phase('latency', () => measureLatency(ctx, strategies.strategies));
  const throughput = await phase('throughput', () => measureThroughput(ctx));
  const relay = await phase('relay', () => measureRelay(ctx));
  const sessions = await phase('sessions', () => measureSessions(ctx));
  const scaling = await phase('poll scaling', () => measurePollScaling(ctx));
  const memory = await phase('memory', () => measureMemory(ctx, scaling.stores));
  // The history store has served its turn; the clean measurement packs a store of its own.
  await ctx.tmp.remove(scaling.stores.history);
  const clean = await phase('clean', () => measureClean(ctx, scaling.stores.elsewhere));
  const all: Figures = {
    ...tokenRun.figures,
    ...strategies.figures,
    ...idle,
    ...startup,
    ...latency,
    ...throughput,
    ...relay,
    ...sessions,
    ...scaling.figures,
    ...memory,
    ...clean,
  };
  const figures: Figures = {};
  for (const key of figureKeys(ctx.sizes)) {
    const f = all[key];
    if (f === undefined) throw new Error(`the bench did not produce ${key}`);
    figures[key] = f;
  }
  return { figures, texts: tokenRun.texts };
}

async function main(): Promise<number> {
  let args: { quick: boolean; scale: boolean; out: string };
  try {
    const { values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        scale: { type: 'boolean', default: false },
        out: { type: 'string' },
      },
      strict: true,
    });
    const quick = values.quick ?? false;
    args = { quick, scale: values.scale ?? false, out: values.out ?? (quick ? QUICK_OUT : DEFAULT_OUT) };
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  const started = monoMs();
  const loadStart = loadAverage();
  const tmp = new TempDirs();
  const ctx: BenchContext = {
    quick: args.quick,
    sizes: args.quick ? QUICK_SIZES : FULL_SIZES,
    tmp,
    progress: (line) => {
      const s = ((monoMs() - started) / 1000).toFixed(1).padStart(6);
      process.stderr.write(`[bench ${s}s] ${line}\n`);
    },
  };
  try {
    const { figures, texts } = await measureAll(ctx);
    const scale = args.scale
      ? await measureScale(ctx, args.quick ? SCALE_STEPS.slice(0, 1) : SCALE_STEPS)
      : undefined;
    const now = new Date();
    const result: BenchResult = {
      date: localDate(now),
      generatedAt: now.toISOString(),
      quick: args.quick,
      sizes: ctx.sizes,
      durationS: (monoMs() - started) / 1000,
      env: environment(loadStart),
      figures,
      texts,
      ...(scale === undefined ? {} : { scale }),
    };
    const unproduced = Object.entries(figures).filter(([, f]) => !isProduced(f.value));
    process.stdout.write(renderMarkdown(result));
    const written = await writeResults(result, args.out);
    process.stderr.write(`wrote ${written.json}\nwrote ${written.md}\n`);
    for (const [key, f] of unproduced) process.stderr.write(`bench: ${key} is "${String(f.value)}"\n`);
    return unproduced.length === 0 ? 0 : 1;
  } catch (e) {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  } finally {
    const killed = killAll();
    if (killed > 0) process.stderr.write(`bench: killed ${killed} leftover child process(es)\n`);
    await tmp.removeAll();
    freeTokenizer();
  }
}

process.exitCode = await main();

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/relay/config.js';
import { beat } from '../src/relay/membership.js';
import { createContext } from '../src/relay/serve-session.js';
import { track, untrack } from './children.js';
import { type BenchContext, reps } from './context.js';
import type { LoopResult } from './disk.js';
import { type Figure, type Figures, judge, round } from './figures.js';
import { summarize } from './stats.js';
import { SINK, type WorkerMode } from './worker-job.js';

/**
 * Durable sends per second (sendMessage from dist/, each resolved only once its event is fsynced and linked)
 * from 1 and from 4 processes at once, beside the minimal durable append of this disk (temp file, fsync,
 * link(2), fsync the folder) from one process. Raw and send slices alternate within one set of worker
 * processes, so a neighbour's load on the disk falls on both alike. Bars: one process sends at ≥ 60% of the
 * raw appends per second; four processes together at ≥ the raw single-process rate.
 */
const ONE_BAR = 0.6;
const FOUR_BAR = 1;
const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

class Worker {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffered = '';
  private stderr = '';
  private readonly waiting: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  private exited: Error | undefined;

  constructor(index: number) {
    this.child = spawn(process.execPath, [WORKER, String(index)], { stdio: ['pipe', 'pipe', 'pipe'] });
    track(this.child.pid);
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffered += chunk;
      for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.waiting.shift()?.resolve(line);
      }
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.child.on('close', (code) => {
      untrack(this.child.pid);
      this.exited = new Error(`bench worker ${index} exited ${code}: ${this.stderr.trim()}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  private nextLine(): Promise<string> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  async ready(): Promise<void> {
    const line = await this.nextLine();
    if (line !== 'ready') throw new Error(`bench worker said ${line} instead of ready`);
  }

  /** Queues the answer before writing, so a fast answer cannot arrive unclaimed. */
  async run(mode: WorkerMode, ms: number, root: string): Promise<LoopResult> {
    const answer = this.nextLine();
    this.child.stdin.write(`${mode} ${ms} ${root}\n`);
    return JSON.parse(await answer) as LoopResult;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.exited) return resolve();
      this.child.once('close', () => resolve());
      this.child.stdin.end();
    });
  }
}

interface Slices {
  count: number;
  ms: number;
  samples: number[];
}

/** One slice of `ms` on every worker at once; adds the sum of counts and the longest elapsed time. */
async function slice(
  workers: readonly Worker[],
  mode: WorkerMode,
  ms: number,
  root: string,
  into: Slices,
): Promise<LoopResult[]> {
  const results = await Promise.all(workers.map((w) => w.run(mode, ms, root)));
  into.count += results.reduce((sum, r) => sum + r.count, 0);
  into.ms += Math.max(...results.map((r) => r.elapsedMs));
  for (const r of results) into.samples.push(...r.samples);
  return results;
}

const perSec = (s: Slices) => (s.count / s.ms) * 1000;

export async function measureThroughput(ctx: BenchContext): Promise<Figures> {
  // Many short slices, alternating: a burst of load from elsewhere then falls on raw and send alike.
  const rounds = reps(ctx, 10, 3);
  const sliceMs = reps(ctx, 500, 150);
  const figures: Record<string, Figure> = {};
  // Four workers for the whole measurement; the one-process figure uses the first alone.
  const all = Array.from({ length: 4 }, (_, index) => new Worker(index));
  try {
    await Promise.all(all.map((w) => w.ready()));
    for (const processes of [1, 4]) {
      const workers = all.slice(0, processes);
      // A fresh store for each: a sender's index of recent sends grows with every send.
      const root = await ctx.tmp.make(`throughput${processes}`);
      const store = path.join(root, 'store');
      await beat(createContext({ config: loadConfig({ RELAY_HOME: store }, root), name: SINK }));
      ctx.progress(
        `throughput: ${processes} process(es), ${rounds} × (raw ${sliceMs} ms, send ${sliceMs} ms)`,
      );
      // The raw limit is always one process's: the bar for four processes is to beat it together.
      const raw: Slices = { count: 0, ms: 0, samples: [] };
      const send: Slices = { count: 0, ms: 0, samples: [] };
      const sendFirst: number[] = [];
      const sendLast: number[] = [];
      for (let r = 0; r < rounds; r++) {
        await slice(workers.slice(0, 1), 'raw', sliceMs, root, raw);
        const results = await slice(workers, 'send', sliceMs, root, send);
        // How one process's sends slow down as its store grows: its first tenth against its last tenth.
        for (const res of results) {
          const tenth = Math.max(1, Math.floor(res.samples.length / 10));
          if (r === 0) sendFirst.push(...res.samples.slice(0, tenth));
          if (r === rounds - 1) sendLast.push(...res.samples.slice(-tenth));
        }
      }
      await ctx.tmp.remove(root);
      figures[`throughput.send${processes}`] = throughputFigure(processes, raw, send, sendFirst, sendLast);
    }
  } finally {
    for (const w of all) await w.close();
  }
  return figures;
}

function throughputFigure(
  processes: number,
  raw: Slices,
  send: Slices,
  sendFirst: readonly number[],
  sendLast: readonly number[],
): Figure {
  const one = summarize(send.samples);
  const drift = summarize(sendLast).median / summarize(sendFirst).median;
  const plural = processes > 1 ? 'es' : '';
  const share = processes > 1 ? FOUR_BAR : ONE_BAR;
  const target = perSec(raw) * share;
  return {
    label: `durable sends per second, ${processes} process${plural}${processes > 1 ? ' at once, one recipient' : ''}`,
    unit: 'sends/s',
    value: perSec(send),
    beside: { label: 'raw durable appends, 1 process', value: perSec(raw), unit: 'sends/s' },
    bar: judge(perSec(send), '>=', target, 'sends/s', `≥ ${share * 100}% of raw = ${Math.round(target)}/s`),
    note:
      `${round(perSec(send) / perSec(raw))}× the raw appends/s; one send ${round(one.median)} ms median, ` +
      `p99 ${round(one.p99)} ms, ${send.count.toLocaleString('en-US')} sends; ` +
      `the last tenth of the sends took ${round(drift)}× the time of the first tenth (medians)`,
  };
}

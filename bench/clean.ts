import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { track, untrack } from './children.js';
import type { BenchContext } from './context.js';
import { recentBase } from './events.js';
import { type Figure, type Figures, judge } from './figures.js';
import { fillHistory } from './fill.js';
import { POLLER, sizeLabel } from './poll-scaling.js';
import { monoMs } from './stats.js';
import { CLI, peakRssMib } from './stdio.js';

/**
 * `claude-relay clean` (the real CLI, spawn to exit, one run each) on two stores of N events, N the largest
 * size: N unread messages in 100 inboxes (the elsewhere store of the poll-scaling measurement: a sweep with
 * nothing to pack), and N/2 consumed messages, whose N event files it packs into a segment. Beside each: the
 * time to list and read every file of that store, in-process, with the cache as warm as clean finds it: the
 * floor for any clean that looks at every event. The clean process's peak RSS is sampled while it runs.
 */
const RSS_SAMPLE_MS = 50;
/** Bars: clean takes at most this many times the floor, and stays under this peak RSS. */
const TIME_BAR = 2;
const RSS_BAR_MIB = 120;

async function readEveryFile(dir: string): Promise<number> {
  let files = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files += await readEveryFile(full);
    else {
      await fs.readFile(full);
      files++;
    }
  }
  return files;
}

interface CleanRun {
  readonly ms: number;
  readonly report: Record<string, unknown>;
  /** The highest VmHWM read while it ran (MiB); it can miss growth in its last RSS_SAMPLE_MS. */
  readonly peakRss: number | undefined;
}

function runClean(root: string): Promise<CleanRun> {
  return new Promise((resolve, reject) => {
    const start = monoMs();
    const child = spawn(process.execPath, [CLI, 'clean', '--json'], {
      env: { PATH: process.env.PATH ?? '', RELAY_HOME: root },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child.pid);
    let peakRss: number | undefined;
    const sampler = setInterval(() => {
      if (child.pid === undefined) return;
      void peakRssMib(child.pid).then((mib) => {
        if (mib !== undefined) peakRss = Math.max(peakRss ?? 0, mib);
      });
    }, RSS_SAMPLE_MS);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = monoMs() - start;
      clearInterval(sampler);
      untrack(child.pid);
      if (code !== 0) reject(new Error(`clean exited ${code}: ${err.trim()}`));
      else resolve({ ms, report: JSON.parse(out) as Record<string, unknown>, peakRss });
    });
  });
}

function summary(report: Record<string, unknown>): string {
  const keys = ['packed', 'expired', 'archived', 'quarantined'];
  return keys
    .map((k) => `${k} ${JSON.stringify(Array.isArray(report[k]) ? report[k].length : report[k])}`)
    .join(', ');
}

export async function measureClean(ctx: BenchContext, elsewhere: string): Promise<Figures> {
  const n = ctx.sizes[ctx.sizes.length - 1] as number;
  const consumed = await ctx.tmp.make('clean');
  const started = monoMs();
  await fillHistory(consumed, POLLER, 0, n / 2, recentBase());
  ctx.progress(
    `clean: store of ${sizeLabel(n / 2)} consumed messages filled in ${Math.round(monoMs() - started)} ms`,
  );
  const figures: Record<string, Figure> = {};
  let packingRss: number | undefined;
  for (const kind of ['unread', 'consumed'] as const) {
    const root = kind === 'unread' ? elsewhere : consumed;
    ctx.progress(`clean: ${sizeLabel(n)} events, ${kind}`);
    // The first pass warms the page cache, as clean then finds it; the second is the floor.
    await readEveryFile(root);
    const t = monoMs();
    const files = await readEveryFile(root);
    const floorMs = monoMs() - t;
    const run = await runClean(root);
    if (kind === 'consumed' && run.report.packed !== n / 2) {
      throw new Error(`clean packed ${String(run.report.packed)} of the ${n / 2} consumed messages`);
    }
    if (kind === 'consumed') packingRss = run.peakRss;
    figures[`clean.${kind}`] = {
      label:
        kind === 'unread'
          ? `clean, store of ${sizeLabel(n)} events: unread messages in 100 inboxes (nothing to pack)`
          : `clean, store of ${sizeLabel(n)} events: ${sizeLabel(n / 2)} consumed messages packed into a segment`,
      unit: 's',
      value: run.ms / 1000,
      beside: {
        label: `read all ${files.toLocaleString('en-US')} files (warm cache)`,
        value: floorMs / 1000,
        unit: 's',
      },
      bar: judge(
        run.ms / 1000,
        '<=',
        (TIME_BAR * floorMs) / 1000,
        's',
        `≤ ${TIME_BAR}× the read = ${((TIME_BAR * floorMs) / 1000).toFixed(1)} s`,
      ),
      note: `one run, CLI spawn to exit (${summary(run.report)}); peak RSS ${run.peakRss?.toFixed(0) ?? '?'} MiB`,
    };
  }
  await ctx.tmp.remove(consumed);
  if (packingRss === undefined) throw new Error('peak RSS of clean needs /proc/<pid>/status (Linux)');
  figures['memory.rss.clean'] = {
    label: `peak RSS of clean packing ${sizeLabel(n / 2)} consumed messages (sampled every ${RSS_SAMPLE_MS} ms)`,
    unit: 'MiB',
    value: packingRss,
    bar: judge(packingRss, '<=', RSS_BAR_MIB, 'MiB'),
  };
  return figures;
}

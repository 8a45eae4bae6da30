import type { BenchContext } from './context.js';
import { type Figure, type Figures, judge } from './figures.js';
import { type ScalingStores, sizeLabel } from './poll-scaling.js';
import { monoMs } from './stats.js';
import { callOk, MINIMAL_SERVER, peakRssMib, type Served, startServe, startStdio } from './stdio.js';

/**
 * Peak RSS (VmHWM) of a real `serve` after it answered tools/list, relay_sessions and relay_poll: on an empty
 * store, and on each of the two large stores of the poll-scaling measurement. The minimal SDK server is the
 * floor beside the empty-store figure. Start-up on the large stores comes from the same spawns.
 */
const NAME = 'bench';

interface Probe {
  readonly rss: number;
  readonly startupMs: number;
}

async function probe(start: () => Promise<Served>, calls: (s: Served) => Promise<void>): Promise<Probe> {
  const t = monoMs();
  const served = await start();
  try {
    await served.client.listTools();
    const startupMs = monoMs() - t;
    await calls(served);
    const rss = await peakRssMib(served.pid);
    if (rss === undefined) throw new Error('peak RSS needs /proc/<pid>/status (Linux)');
    return { rss, startupMs };
  } finally {
    await served.close();
  }
}

const relayCalls = async (s: Served) => {
  await callOk(s, 'relay_sessions');
  await callOk(s, 'relay_poll');
};

export async function measureMemory(ctx: BenchContext, stores: ScalingStores): Promise<Figures> {
  const size = sizeLabel(ctx.sizes[ctx.sizes.length - 1] as number);
  ctx.progress(`memory: serve on an empty store and on the ${size}-event stores`);
  const floor = await probe(
    () => startStdio({ args: [MINIMAL_SERVER] }),
    async (s) => {
      await s.client.callTool({ name: 'noop', arguments: {} });
    },
  );
  const emptyStore = await ctx.tmp.make('memory');
  const empty = await probe(() => startServe({ store: emptyStore, name: NAME }), relayCalls);
  await ctx.tmp.remove(emptyStore);
  const elsewhere = await probe(() => startServe({ store: stores.elsewhere, name: NAME }), relayCalls);
  const history = await probe(() => startServe({ store: stores.history, name: NAME }), relayCalls);

  const baseline = { label: 'serve, empty store', value: empty.rss, unit: 'MiB' } as const;
  const big = (rss: number) => judge(rss, '<', 80, 'MiB', '< 80 MiB');
  const slower = elsewhere.startupMs >= history.startupMs ? elsewhere : history;
  const figures: Record<string, Figure> = {
    'memory.rss.empty': {
      label: 'peak RSS of serve, empty store (after tools/list, sessions, poll)',
      unit: 'MiB',
      value: empty.rss,
      beside: { label: 'minimal SDK stdio server', value: floor.rss, unit: 'MiB' },
    },
    'memory.rss.elsewhere': {
      label: `peak RSS of serve, ${size} events elsewhere in the store`,
      unit: 'MiB',
      value: elsewhere.rss,
      beside: baseline,
      bar: big(elsewhere.rss),
    },
    'memory.rss.history': {
      label: `peak RSS of serve, ${size} own consumed messages`,
      unit: 'MiB',
      value: history.rss,
      beside: baseline,
      bar: big(history.rss),
    },
    'startup.serveLargeStore': {
      label: `start-up of serve (spawn → tools/list answered) on the ${size}-event stores, slower of the two`,
      unit: 'ms',
      value: slower.startupMs,
      beside: { label: 'serve, empty store (one run)', value: empty.startupMs, unit: 'ms' },
      note: `elsewhere ${Math.round(elsewhere.startupMs)} ms, own history ${Math.round(history.startupMs)} ms (one run each)`,
    },
  };
  return figures;
}

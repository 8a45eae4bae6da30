import { promises as fs } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/relay/config.js';
import type { RelayContext } from '../src/relay/context.js';
import { pollInbox } from '../src/relay/poll.js';
import { createContext } from '../src/relay/serve-session.js';
import { type BenchContext, reps } from './context.js';
import { recentBase } from './events.js';
import { type Figure, type Figures, judge } from './figures.js';
import { fillElsewhere, fillHistory } from './fill.js';
import { monoMs, summarize } from './stats.js';

/**
 * The time of a poll of an empty inbox (pollInbox from dist/, as `serve` calls it) as the store grows:
 * with events elsewhere (unread messages in 100 other inboxes), and with the session's own consumed history
 * (archive/ + settled/). Only the polls are timed, never the filling.
 */
export const POLLER = 'bench';

export interface ScalingStores {
  /** N unread events in other inboxes, N = the largest size. */
  readonly elsewhere: string;
  /** N messages the poller consumed (2N event files). */
  readonly history: string;
}

export function sizeLabel(n: number): string {
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}

function pollerContext(root: string): RelayContext {
  return createContext({ config: loadConfig({ RELAY_HOME: root }, root), name: POLLER });
}

/** Times `count` polls of the empty inbox, appending each duration to `into`. */
async function timePolls(ctx: RelayContext, count: number, into: number[] | undefined): Promise<void> {
  for (let i = 0; i < count; i++) {
    const start = monoMs();
    const result = await pollInbox(ctx, { via: 'poll' });
    const ms = monoMs() - start;
    if (result.messages.length > 0 || result.remaining > 0) {
      throw new Error(`the poller's inbox should be empty, but a poll returned ${result.messages.length}`);
    }
    into?.push(ms);
  }
}

type Kind = 'elsewhere' | 'history';

const KIND_TEXT: Record<Kind, (n: string) => string> = {
  elsewhere: (n) => `poll of an empty inbox, ${n} events elsewhere in the store`,
  history: (n) => `poll of an empty inbox, ${n} own consumed messages (2× as many event files)`,
};

interface Sized {
  readonly kind: Kind;
  readonly size: number;
  readonly root: string;
  readonly poller: RelayContext;
  readonly samples: number[];
}

/**
 * One store per kind and size, all built first; then rounds of polls visit every store in turn, so a burst
 * of load from elsewhere on the machine falls on all sizes alike instead of on whichever was measured then.
 */
export async function measurePollScaling(
  ctx: BenchContext,
): Promise<{ figures: Figures; stores: ScalingStores }> {
  const warmup = reps(ctx, 200, 50);
  const rounds = reps(ctx, 20, 6);
  const perRound = reps(ctx, 100, 50);
  const baseMs = recentBase();
  const stores: Sized[] = [];
  for (const kind of ['elsewhere', 'history'] as const) {
    for (const size of ctx.sizes) {
      const root = await ctx.tmp.make(`${kind}-${size}`);
      const started = monoMs();
      if (kind === 'elsewhere') await fillElsewhere(root, 0, size, baseMs);
      else await fillHistory(root, POLLER, 0, size, baseMs);
      // The poller has polled before: its inbox directory exists and is empty.
      await fs.mkdir(path.join(root, 'inbox', POLLER), { recursive: true });
      ctx.progress(
        `poll scaling: ${kind} store of ${sizeLabel(size)} filled in ${Math.round(monoMs() - started)} ms`,
      );
      stores.push({ kind, size, root, poller: pollerContext(root), samples: [] });
    }
  }
  for (const s of stores) await timePolls(s.poller, warmup, undefined);
  for (let r = 0; r < rounds; r++) {
    for (const s of stores) await timePolls(s.poller, perRound, s.samples);
  }
  const figures: Record<string, Figure> = {};
  for (const kind of ['elsewhere', 'history'] as const) {
    const mine = stores.filter((s) => s.kind === kind);
    const medians = mine.map((s) => {
      const sum = summarize(s.samples);
      figures[`poll.${kind}.${s.size}`] = {
        label: KIND_TEXT[kind](sizeLabel(s.size)),
        unit: 'ms',
        value: sum.median,
        p99: sum.p99,
        runs: sum.runs,
      };
      return sum.median;
    });
    const first = mine[0] as Sized;
    const last = mine[mine.length - 1] as Sized;
    const ratio = (medians[medians.length - 1] as number) / (medians[0] as number);
    figures[`poll.${kind}.ratio`] = {
      label: `poll time ratio ${sizeLabel(last.size)} / ${sizeLabel(first.size)} (${kind === 'elsewhere' ? 'events elsewhere' : 'own consumed history'}), medians`,
      unit: '×',
      value: ratio,
      bar: judge(ratio, '<=', 1.5, '×'),
    };
  }
  // Only the largest stores are kept, for the memory and clean measurements.
  const largest = ctx.sizes[ctx.sizes.length - 1];
  for (const s of stores) if (s.size !== largest) await ctx.tmp.remove(s.root);
  const keep = (kind: Kind) => stores.find((s) => s.kind === kind && s.size === largest)?.root as string;
  return { figures, stores: { elsewhere: keep('elsewhere'), history: keep('history') } };
}

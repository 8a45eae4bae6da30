import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type BenchContext, reps } from './context.js';
import { loopFor, rawDurableWrite } from './disk.js';
import { type Beside, type Figure, type Figures, judge, NOT_BUILT, round } from './figures.js';
import { measureNative } from './native.js';
import { channelInbox } from './push.js';
import { monoMs, summarize, timing } from './stats.js';
import { allStarted, call, callOk, type Served, startServe } from './stdio.js';
import type { Strategies } from './strategies.js';
import { RAW_DATA } from './worker-job.js';

/**
 * Send → visible, between real processes: one `serve` sends over MCP; another `serve` receives by polling
 * back to back, by long-polling, or by channel push. Each is the time from calling relay_send to the moment
 * the receiving client holds the message. Beside each: the minimal durable append of an event-sized file on
 * this disk (write a temp file, fsync, link(2) into a folder, fsync the folder), measured in the same run: the
 * least any durable design pays. A trip is a send and a take (two appends) plus two stdio round trips.
 */
/** Send → visible to a back-to-back poll may take at most this many raw appends. */
const TRIP_BAR = 3.5;
const EMPTY = 'No new messages.';
/** Time for a long-poll to reach its wait before the send starts; a bench may wait, a test may not. */
const SETTLE_MS = 20;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls back to back until an answer holds `marker`; `stop.stopped` ends the loop when the send failed. */
async function pollUntil(poller: Served, marker: string, stop: { stopped: boolean }): Promise<number> {
  while (!stop.stopped) {
    const answer = await call(poller, 'relay_poll');
    if (answer.isError) throw new Error(`poll failed: ${answer.text}`);
    if (answer.text.includes(marker)) return monoMs();
    if (answer.text !== EMPTY) throw new Error(`unexpected poll answer: ${answer.text}`);
  }
  throw new Error('stopped');
}

/** Runs `receive` (which resolves when the message arrived) around one send, `runs` times. */
async function sendAndReceive(
  runs: number,
  sender: Served,
  to: string,
  receive: (marker: string, stop: { stopped: boolean }) => Promise<number>,
  beforeSend: () => Promise<void> = async () => {},
): Promise<{ visible: number[]; sendCall: number[] }> {
  const visible: number[] = [];
  const sendCall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const marker = `ping ${i}`;
    const stop = { stopped: false };
    const seen = receive(marker, stop);
    await beforeSend();
    const t0 = monoMs();
    try {
      await callOk(sender, 'relay_send', { to, message: marker });
    } catch (e) {
      stop.stopped = true;
      await seen.catch(() => {});
      throw e;
    }
    sendCall.push(monoMs() - t0);
    visible.push((await seen) - t0);
  }
  return { visible, sendCall };
}

export async function measureLatency(ctx: BenchContext, strategies: Strategies): Promise<Figures> {
  const runs = reps(ctx, 200, 10);
  const root = await ctx.tmp.make('latency');
  const raw = path.join(root, 'raw');
  await fs.mkdir(path.join(raw, 'tmp'), { recursive: true });
  await fs.mkdir(path.join(raw, 'in'), { recursive: true });
  ctx.progress(`latency: ${runs} raw durable writes, then ${runs} sends per delivery path`);
  const rawWrites = await loopFor(
    Number.POSITIVE_INFINITY,
    (n) => rawDurableWrite(path.join(raw, 'tmp'), path.join(raw, 'in'), `${n}.json`, RAW_DATA),
    runs,
  );
  const w = summarize(rawWrites.samples);
  const rawBeside: Beside = {
    label: 'raw durable append (temp, fsync, link, fsync dir)',
    value: w.median,
    p99: w.p99,
    unit: 'ms',
  };
  const multiple = (f: Figure): Figure => ({
    ...f,
    note: `${round((f.value as number) / w.median)}× the raw append${f.note ? `; ${f.note}` : ''}`,
  });
  const store = path.join(root, 'store');
  const env = { RELAY_RATE_LIMIT: '1000000', RELAY_PUSH: 'off' };
  const started: Served[] = [];
  const serve = async (name: string, extra: Record<string, string> = {}) => {
    const served = await startServe({ store, name, env: { ...env, ...extra } });
    started.push(served);
    return served;
  };
  try {
    const [poller, sender, pushed] = await allStarted([
      serve('bench'),
      serve('api'),
      ...(strategies.push ? [serve('pushed', { RELAY_PUSH: 'deliver' })] : []),
    ]);
    const polled = await sendAndReceive(runs, sender, 'bench', (marker, stop) =>
      pollUntil(poller, marker, stop),
    );
    const figures: Record<string, Figure> = {
      'latency.sendCall': multiple(
        timing('relay_send round trip over MCP (durable when answered)', polled.sendCall, rawBeside),
      ),
      'latency.sendToPoll': multiple({
        ...timing(
          'send → visible to relay_poll in another process (polling back to back)',
          polled.visible,
          rawBeside,
        ),
        bar: judge(
          summarize(polled.visible).median,
          '<=',
          TRIP_BAR * w.median,
          'ms',
          `≤ ${TRIP_BAR}× raw = ${round(TRIP_BAR * w.median)} ms`,
        ),
      }),
    };

    if (strategies.longPoll) {
      const waited = await sendAndReceive(
        runs,
        sender,
        'bench',
        async (marker) => {
          const answer = await callOk(poller, 'relay_poll', { wait: 30 });
          if (!answer.includes(marker)) throw new Error(`long-poll returned without the message: ${answer}`);
          return monoMs();
        },
        () => sleep(SETTLE_MS),
      );
      figures['latency.sendToLongPoll'] = multiple(
        timing('send → answer of a waiting relay_poll(wait) in another process', waited.visible, rawBeside),
      );
    } else {
      figures['latency.sendToLongPoll'] = { label: 'send → waiting long-poll', unit: 'ms', value: NOT_BUILT };
    }

    if (pushed) {
      const inbox = channelInbox(pushed);
      const result = await sendAndReceive(runs, sender, 'pushed', async (marker) => {
        const n = await inbox.next(10_000);
        if (n.content !== marker) throw new Error(`pushed ${JSON.stringify(n.content)}, expected ${marker}`);
        return monoMs();
      });
      figures['latency.sendToPush'] = multiple(
        timing(
          'send → channel notification received by the client of another serve',
          result.visible,
          rawBeside,
        ),
      );
    } else {
      figures['latency.sendToPush'] = { label: 'send → channel notification', unit: 'ms', value: NOT_BUILT };
    }
    Object.assign(figures, await measureNative(ctx, rawBeside));
    return figures;
  } finally {
    for (const s of started) await s.close().catch(() => {});
    await ctx.tmp.remove(root);
  }
}

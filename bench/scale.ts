import { readFile } from 'node:fs/promises';
import { formatStamp, HybridClock } from '../src/log/clock.js';
import { formatSessions } from '../src/mcp/format.js';
import { messageId } from '../src/relay/ids.js';
import { newInstanceId } from '../src/relay/membership.js';
import { NatsBackend } from '../src/remote/backends/nats.js';
import { RemoteClient } from '../src/remote/client.js';
import { KeyRing } from '../src/remote/keys.js';
import type { BenchContext } from './context.js';
import { round } from './figures.js';
import { type BackendName, NATS_URL, startRelay } from './relay.js';
import { monoMs, summarize } from './stats.js';
import { tokens } from './tokenize.js';

/**
 * Simulated sessions at scale (`--scale`): no model, only small HTTP clients in this process that join,
 * heartbeat every 30 s and send at a set rate, through two relay servers on one NATS and through one
 * embedded relay, stepping the number of sessions. Per step: the round trip of a probe message (send through
 * one relay, poll and ack through the other) while the load runs, the heartbeats per second absorbed, the
 * relay processes' CPU and peak RSS, and GET /v1/sessions (what relay_sessions reads) with its tokens.
 */
export const SCALE_STEPS = [100, 1_000, 10_000] as const;
const HEARTBEAT_S = 30;
/** Each session sends one message every this many seconds (a busy hand-off rate). */
const SEND_EVERY_S = 60;
const SESSIONS_PER_MACHINE = 100;
const JOIN_PARALLEL = 32;
const TICK_MS = 100;

interface Relay {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** utime + stime of a process in ms, and its peak RSS in MiB, from /proc (Linux). */
async function usage(pid: number): Promise<{ cpuMs: number; rssMib: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return { cpuMs: ticks * 10, rssMib: kb / 1024 };
}

export interface ScaleRow {
  readonly backend: string;
  readonly sessions: number;
  /** Set when the step could not finish: what failed (a relay that stopped answering in time). */
  readonly failed?: string;
  readonly rttP50: number;
  readonly rttP99: number;
  readonly heartbeatsPerS: number;
  readonly offeredPerS: number;
  readonly sendsPerS: number;
  readonly cpuPct: number;
  readonly rssMib: number;
  readonly sessionsMs: number;
  readonly sessionsTokens: number;
  readonly joinS: number;
}

async function step(ctx: BenchContext, backend: BackendName, n: number, windowMs: number): Promise<ScaleRow> {
  const data = await ctx.tmp.make(`scale-${backend}-${n}`);
  const prefix = `BENCHSCALE${Date.now().toString(36)}`.toUpperCase();
  const ring = KeyRing.inDataDir(data);
  const machines = Math.ceil(n / SESSIONS_PER_MACHINE);
  const keys: string[] = [];
  for (let m = 0; m < machines; m++) keys.push((await ring.add(`m-${m}`)).key);
  const relays: Relay[] = [];
  try {
    // Two relay servers on one NATS act as one; the embedded log is one server.
    for (let r = 0; r < (backend === 'nats' ? 2 : 1); r++)
      relays.push(await startRelay(data, backend, prefix));
    const client = (m: number, i: number) =>
      new RemoteClient({ url: (relays[i % relays.length] as Relay).url, apiKey: keys[m] as string });
    const sessions = Array.from({ length: n }, (_, i) => {
      const m = Math.floor(i / SESSIONS_PER_MACHINE);
      return { machine: `m-${m}`, name: `s-${i}`, client: client(m, i), instance: newInstanceId() };
    });
    const beat = (s: (typeof sessions)[number]) =>
      s.client.heartbeat(s.machine, s.name, {
        instance: s.instance,
        pid: 1000 + (Number(s.name.slice(2)) % 60_000),
        cwd: `/work/${s.name}`,
        startedAt: Date.now(),
      });
    const joinStart = monoMs();
    for (let i = 0; i < n; i += JOIN_PARALLEL)
      await Promise.all(sessions.slice(i, i + JOIN_PARALLEL).map(beat));
    const joinS = (monoMs() - joinStart) / 1000;

    const before = await Promise.all(relays.map((r) => usage(r.pid)));
    const clock = new HybridClock();
    const send = (from: (typeof sessions)[number], to: (typeof sessions)[number], body: string) => {
      const at = formatStamp(clock.tick());
      const id = messageId();
      const message = {
        key: `${at}-${id}`,
        id,
        from: from.name,
        fromMachine: from.machine,
        type: 'info' as const,
        body,
        sentAt: Date.now(),
        ttlMs: 3_600_000,
      };
      return from.client.send(to.machine, to.name, message).then(() => message.key);
    };
    // The load: heartbeats and sends spread evenly over the window, at the rates of real sessions.
    const offered = n / HEARTBEAT_S;
    const sendRate = n / SEND_EVERY_S;
    let beats = 0;
    let sends = 0;
    let next = 0;
    const inFlight = new Set<Promise<unknown>>();
    const start = monoMs();
    const track = (p: Promise<unknown>, done: () => void) => {
      const q = p.then(done, () => {}).finally(() => inFlight.delete(q));
      inFlight.add(q);
    };
    const load = setInterval(() => {
      const elapsed = (monoMs() - start) / 1000;
      while (next < Math.floor(elapsed * offered)) {
        track(beat(sessions[next % n] as (typeof sessions)[number]), () => beats++);
        next++;
      }
      while (sends < Math.floor(elapsed * sendRate) && inFlight.size < 2000) {
        const from = sessions[(sends * 7) % n] as (typeof sessions)[number];
        const to = sessions[(sends * 13 + 1) % n] as (typeof sessions)[number];
        sends++;
        track(send(from, to, 'load'), () => {});
      }
    }, TICK_MS);
    // The probe: a message from the first session to the last, polled and acked by the last's relay.
    const a = sessions[0] as (typeof sessions)[number];
    const b = sessions[n - 1] as (typeof sessions)[number];
    const trips: number[] = [];
    try {
      while (monoMs() - start < windowMs) {
        const t = monoMs();
        const key = await send(a, b, 'probe');
        for (;;) {
          const got = await b.client.poll(b.machine, b.name, { wait: 5, max: 10 });
          if (got.length > 0)
            await b.client.ack(
              b.machine,
              b.name,
              got.map((m) => m.ack),
            );
          if (got.some((m) => m.key === key)) break;
        }
        trips.push(monoMs() - t);
      }
    } finally {
      // Also when the probe failed: the load must stop with the step.
      clearInterval(load);
    }
    const elapsedS = (monoMs() - start) / 1000;
    await Promise.all(inFlight);
    const after = await Promise.all(relays.map((r) => usage(r.pid)));
    const cpuMs = after.reduce((sum, u, i) => sum + u.cpuMs - (before[i]?.cpuMs ?? 0), 0);
    const listed: number[] = [];
    let answer = '';
    for (let i = 0; i < 5; i++) {
      const t = monoMs();
      const live = await a.client.sessions();
      listed.push(monoMs() - t);
      answer = formatSessions(
        live.map((s) => ({ ...s, name: `${s.machine}:${s.name}` })),
        `${a.machine}:${a.name}`,
        Date.now(),
      );
    }
    const rtt = summarize(trips);
    return {
      backend: backendLabel(backend),
      sessions: n,
      rttP50: rtt.median,
      rttP99: rtt.p99,
      heartbeatsPerS: beats / elapsedS,
      offeredPerS: offered,
      sendsPerS: sends / elapsedS,
      cpuPct: (cpuMs / (elapsedS * 1000)) * 100,
      rssMib: Math.max(...after.map((u) => u.rssMib)),
      sessionsMs: summarize(listed).median,
      sessionsTokens: tokens(answer),
      joinS,
    };
  } finally {
    for (const r of relays) await r.stop().catch(() => {});
    if (backend === 'nats') {
      const b = await NatsBackend.open({ url: NATS_URL, prefix, liveWindowMs: 120_000, leaseMs: 30_000 });
      await b.destroy();
      await b.close();
    }
    await ctx.tmp.remove(data);
  }
}

const backendLabel = (b: BackendName) => (b === 'nats' ? 'nats, 2 relays' : 'embedded, 1 relay');
const EMPTY_ROW = {
  rttP50: Number.NaN,
  rttP99: Number.NaN,
  heartbeatsPerS: Number.NaN,
  offeredPerS: Number.NaN,
  sendsPerS: Number.NaN,
  cpuPct: Number.NaN,
  rssMib: Number.NaN,
  sessionsMs: Number.NaN,
  sessionsTokens: Number.NaN,
  joinS: Number.NaN,
};

export async function measureScale(ctx: BenchContext, steps: readonly number[]): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const windowMs = ctx.quick ? 3000 : 15_000;
  for (const backend of ['nats', 'embedded'] as const) {
    for (const n of steps) {
      ctx.progress(`scale: ${backend}, ${n.toLocaleString('en-US')} sessions`);
      try {
        rows.push(await step(ctx, backend, n, windowMs));
      } catch (e) {
        // A relay that cannot keep up is this step's result, not the end of the bench.
        const failed = e instanceof Error ? e.message : String(e);
        ctx.progress(`scale: ${backend}, ${n} sessions failed: ${failed}`);
        rows.push({ ...EMPTY_ROW, backend: backendLabel(backend), sessions: n, failed });
        break;
      }
    }
  }
  return rows;
}

/** The scale table as markdown, for latest.md. */
export function renderScale(rows: readonly ScaleRow[]): string {
  const lines = [
    '## Scale: simulated sessions through the relay',
    '',
    `Each session heartbeats every ${HEARTBEAT_S} s and sends one message every ${SEND_EVERY_S} s, ${SESSIONS_PER_MACHINE} sessions a machine (one API key each); the clients run in the bench process on the same 2 cores as the relays. Round trip: a probe sent through one relay, polled and acked through the other (the same one for embedded), back to back while the load runs. CPU is the relay processes' together (100% = one core).`,
    '',
    '| Backend | Sessions | Round trip p50 | p99 | Heartbeats/s absorbed (offered) | Sends/s | Relay CPU | Relay peak RSS | Sessions list time | its tokens | Join time |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    if (r.failed !== undefined) {
      lines.push(
        `| ${r.backend} | ${r.sessions.toLocaleString('en-US')} | failed: ${r.failed} | | | | | | | | |`,
      );
      continue;
    }
    lines.push(
      `| ${r.backend} | ${r.sessions.toLocaleString('en-US')} | ${round(r.rttP50)} ms | ${round(r.rttP99)} ms | ${round(r.heartbeatsPerS)} (${round(r.offeredPerS)}) | ${round(r.sendsPerS)} | ${Math.round(r.cpuPct)}% | ${Math.round(r.rssMib)} MiB | ${round(r.sessionsMs)} ms | ${r.sessionsTokens.toLocaleString('en-US')} | ${round(r.joinS)} s |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

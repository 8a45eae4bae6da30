import { spawn } from 'node:child_process';
import { formatStamp, HybridClock } from '../src/log/clock.js';
import { messageId } from '../src/relay/ids.js';
import { NatsBackend } from '../src/remote/backends/nats.js';
import { RemoteClient } from '../src/remote/client.js';
import { KeyRing } from '../src/remote/keys.js';
import { track, untrack } from './children.js';
import { type BenchContext, reps } from './context.js';
import type { Figures } from './figures.js';
import { besideOf, monoMs, timing } from './stats.js';
import { CLI } from './stdio.js';

/**
 * The cross-machine relay, for each backend: a message's round trip through a `claude-relay relay`
 * process (send, then the recipient's poll and ack), and sends per second from one and from four clients,
 * each beside a bare HTTP round trip to the same relay (`GET /health`), the floor of any request.
 */
export const NATS_URL = process.env.RELAY_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
export type BackendName = 'embedded' | 'nats';

export async function startRelay(data: string, backend: BackendName, prefix: string) {
  const args = [CLI, 'relay', '--port', '0', '--data', data, '--quiet', '--rate-limit', '1000000'];
  if (backend === 'nats') args.push('--backend', 'nats', '--nats-url', NATS_URL, '--nats-prefix', prefix);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child.pid);
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay (${backend}) did not start: ${out}`)), 20_000);
    const look = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => reject(new Error(`relay (${backend}) exited ${code}: ${out}`)));
  });
  // The relay listens at once and answers 503 until its storage is connected: measure only after that.
  for (
    let waited = 0;
    !(await fetch(`${url}/health`)
      .then((r) => r.ok)
      .catch(() => false));
    waited += 50
  ) {
    if (waited > 20_000) throw new Error(`relay (${backend}) never became healthy: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    pid: child.pid as number,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
      untrack(child.pid);
    },
  };
}

export function message(clock: HybridClock, body: string) {
  const at = formatStamp(clock.tick());
  const id = messageId();
  return {
    key: `${at}-${id}`,
    id,
    from: 'web',
    fromMachine: 'laptop',
    type: 'info' as const,
    body,
    sentAt: Date.now(),
    ttlMs: 3_600_000,
  };
}

async function measureBackend(ctx: BenchContext, backend: BackendName, f: Figures): Promise<void> {
  const data = await ctx.tmp.make(`relay-${backend}`);
  const prefix = `BENCH${Date.now().toString(36)}`.toUpperCase();
  const ring = KeyRing.inDataDir(data);
  const laptopKey = (await ring.add('laptop')).key;
  const serverKey = (await ring.add('server-2')).key;
  const relay = await startRelay(data, backend, prefix);
  try {
    const laptop = new RemoteClient({ url: relay.url, apiKey: laptopKey });
    const server = new RemoteClient({ url: relay.url, apiKey: serverKey });
    await server.heartbeat('server-2', 'api', {
      instance: 'benchapi',
      pid: process.pid,
      cwd: '/bench',
      startedAt: Date.now(),
    });
    const clock = new HybridClock();
    const runs = reps(ctx, 200, 10);
    const trips: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t = monoMs();
      await laptop.health();
      floor.push(monoMs() - t);
      t = monoMs();
      const sent = message(clock, `round trip ${i}`);
      await laptop.send('server-2', 'api', sent);
      const got = await server.poll('server-2', 'api', { wait: 5, max: 1 });
      if (got[0]?.key !== sent.key)
        throw new Error(`relay (${backend}) returned ${got[0]?.key} for ${sent.key}`);
      await server.ack(
        'server-2',
        'api',
        got.map((m) => m.ack),
      );
      trips.push(monoMs() - t);
    }
    const beside = besideOf('GET /health on the same relay', floor);
    f[`relay.roundTrip.${backend}`] = timing(
      `relay round trip, ${backend} backend: send, then the recipient's poll and ack`,
      trips,
      beside,
    );

    const windowMs = reps(ctx, 3000, 400);
    const rate = async (clients: number): Promise<number> => {
      const deadline = monoMs() + windowMs;
      let sent = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (monoMs() < deadline) {
            await laptop.send('server-2', 'api', message(clock, 'throughput'));
            sent++;
          }
        }),
      );
      return (sent * 1000) / windowMs;
    };
    const one = await rate(1);
    const four = await rate(4);
    f[`relay.throughput.${backend}`] = {
      label: `relay sends per second, ${backend} backend, 1 client (4 clients: ${Math.round(four)}/s)`,
      unit: 'sends/s',
      value: one,
      beside: {
        label: 'GET /health round trips per second (1 client)',
        value: 1000 / beside.value,
        unit: 'sends/s',
      },
    };
  } finally {
    await relay.stop();
    if (backend === 'nats') {
      const b = await NatsBackend.open({ url: NATS_URL, prefix, liveWindowMs: 120_000, leaseMs: 30_000 });
      await b.destroy();
      await b.close();
    }
    await ctx.tmp.remove(data);
  }
}

export async function measureRelay(ctx: BenchContext): Promise<Figures> {
  const f: Figures = {};
  for (const backend of ['embedded', 'nats'] as const) {
    ctx.progress(`relay: ${backend} backend`);
    await measureBackend(ctx, backend, f);
  }
  return f;
}

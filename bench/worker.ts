import path from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/relay/config.js';
import type { RelayContext } from '../src/relay/context.js';
import { sendMessage } from '../src/relay/send.js';
import { createContext } from '../src/relay/serve-session.js';
import { type LoopResult, loopFor, rawLoop } from './disk.js';
import { RAW_DATA, SINK, THROUGHPUT_BODY, type WorkerMode } from './worker-job.js';

/** The entry of one throughput worker process; see worker-job.ts for the protocol. */
async function main(): Promise<void> {
  const index = Number(process.argv[2]);
  if (!Number.isInteger(index)) throw new Error(`expected a worker index, got ${process.argv[2]}`);
  const senders = new Map<string, RelayContext>();
  const sender = (root: string) => {
    let ctx = senders.get(root);
    if (ctx === undefined) {
      const config = loadConfig(
        { RELAY_HOME: path.join(root, 'store'), RELAY_RATE_LIMIT: '1000000000' },
        root,
      );
      ctx = createContext({ config, name: `tx-${index}` });
      senders.set(root, ctx);
    }
    return ctx;
  };
  let rawRound = 0;
  const loops: Record<WorkerMode, (ms: number, root: string) => Promise<LoopResult>> = {
    raw: (ms, root) => rawLoop(root, `w${index}-r${rawRound++}`, RAW_DATA, ms),
    send: (ms, root) => {
      const ctx = sender(root);
      return loopFor(ms, () => sendMessage(ctx, { to: SINK, message: THROUGHPUT_BODY }).then(() => {}));
    },
  };
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const [mode, ms, root] = line.trim().split(' ');
    const loop = loops[mode as WorkerMode];
    if (loop === undefined || !Number.isFinite(Number(ms)) || root === undefined) {
      throw new Error(`bad worker command: ${line}`);
    }
    process.stdout.write(`${JSON.stringify(await loop(Number(ms), root))}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench worker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
  process.stdin.destroy();
});

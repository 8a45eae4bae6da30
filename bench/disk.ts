import { promises as fs } from 'node:fs';
import path from 'node:path';
import { monoMs } from './stats.js';

/**
 * The physical limit a durable send is held to: write a small file, fsync it, link(2) it into place, fsync
 * the directory, and drop the temporary name (what src/log/append.ts must do at the least, without any of
 * the relay's own reads, checks or second index link).
 */
export async function rawDurableWrite(
  tmpDir: string,
  targetDir: string,
  name: string,
  data: string,
): Promise<void> {
  const tmp = path.join(tmpDir, `${name}.tmp`);
  const handle = await fs.open(tmp, 'wx');
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.link(tmp, path.join(targetDir, name));
  const dir = await fs.open(targetDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  await fs.rm(tmp);
}

export interface LoopResult {
  readonly count: number;
  readonly elapsedMs: number;
  /** Duration of each operation, ms. */
  readonly samples: number[];
}

/** Runs `op` back to back until `durationMs` has passed (or `maxCount` ops are done). */
export async function loopFor(
  durationMs: number,
  op: (n: number) => Promise<void>,
  maxCount = Number.POSITIVE_INFINITY,
): Promise<LoopResult> {
  const start = monoMs();
  const samples: number[] = [];
  let end = start;
  while (end - start < durationMs && samples.length < maxCount) {
    const t = monoMs();
    await op(samples.length);
    end = monoMs();
    samples.push(end - t);
  }
  return { count: samples.length, elapsedMs: end - start, samples };
}

/** Raw durable writes of `data` into `root/raw/in`, named after `prefix` so processes never collide. */
export async function rawLoop(
  root: string,
  prefix: string,
  data: string,
  durationMs: number,
): Promise<LoopResult> {
  const tmpDir = path.join(root, 'raw', 'tmp');
  const target = path.join(root, 'raw', 'in');
  await fs.mkdir(tmpDir, { recursive: true });
  await fs.mkdir(target, { recursive: true });
  return loopFor(durationMs, (n) => rawDurableWrite(tmpDir, target, `${prefix}-${n}.json`, data));
}

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';

/**
 * What a test started or made is undone after it, whatever it failed on: importing this module registers the
 * afterEach that runs every `defer`red step, last registered first.
 */
const cleanups: Array<() => Promise<void> | void> = [];

/** Runs `fn` after the current test, last registered first. */
export function defer(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

const forFile: Array<() => Promise<void> | void> = [];

/** Defers made while `fn` runs are undone after the whole file, not after the next test (a beforeAll's world). */
export async function keepForFile<T>(fn: () => Promise<T>): Promise<T> {
  const mark = cleanups.length;
  try {
    return await fn();
  } finally {
    forFile.push(...cleanups.splice(mark));
  }
}

async function runAll(list: Array<() => Promise<void> | void>): Promise<void> {
  const errors: unknown[] = [];
  for (const fn of list.splice(0).reverse()) {
    try {
      await fn();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors[0];
}

afterEach(() => runAll(cleanups));
afterAll(() => runAll(forFile));

/** A fresh directory under the OS temp dir (its real path), removed after the test. */
export async function tempDir(prefix = 'relay-test-'): Promise<string> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
  defer(async () => {
    await fs.chmod(dir, 0o700).catch(() => {});
    await fs.rm(dir, { recursive: true, force: true });
  });
  return dir;
}

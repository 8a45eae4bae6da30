import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { InboxWatch } from '../../src/log/inbox-watch.js';
import { defer, tempDir } from '../support/cleanup.js';

/**
 * InboxWatch on a directory the test writes into directly. `watchWorks` switches fs.watch off, as on a
 * file system where watching fails (network mounts, some containers): then only the periodic scan can wake a
 * waiter.
 */
const fsWatch = vi.hoisted(() => ({ works: true, calls: 0 }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    watch: (...args: Parameters<typeof real.watch>) => {
      fsWatch.calls++;
      if (!fsWatch.works) throw Object.assign(new Error('watch not supported here'), { code: 'ENOSYS' });
      return real.watch(...args);
    },
  };
});

async function watched(scanMs: number, works: boolean): Promise<{ dir: string; watch: InboxWatch }> {
  fsWatch.works = works;
  fsWatch.calls = 0;
  const dir = path.join(await tempDir(), 'inbox', 'api');
  const watch = new InboxWatch(dir, scanMs);
  defer(() => watch.close());
  await watch.start();
  return { dir, watch };
}

describe('InboxWatch', () => {
  it('creates the inbox so that it can be watched before the first message', async () => {
    const { dir } = await watched(1000, true);
    expect((await fs.stat(dir)).isDirectory()).toBe(true);
  });

  it('wakes a waiter when a message file appears (watching)', async () => {
    const { dir, watch } = await watched(60_000, true);
    const woke = watch.next(60_000);
    await fs.writeFile(path.join(dir, 'm1.json'), '{}');
    expect(await woke).toBe(true);
  });

  it('INV-ONCE: where watching is not available, the scan alone wakes a waiter', async () => {
    const { dir, watch } = await watched(10, false);
    expect(fsWatch.calls).toBe(1);
    const woke = watch.next(60_000);
    await fs.writeFile(path.join(dir, 'm1.json'), '{}');
    expect(await woke).toBe(true);
  });

  it('the scan also finds mail that landed before the waiter subscribed (no lost wake-up)', async () => {
    const { dir, watch } = await watched(10, false);
    await fs.writeFile(path.join(dir, 'm1.json'), '{}');
    expect(await watch.next(60_000)).toBe(true);
  });

  it('the scan ignores files that are not messages (a temp file being written)', async () => {
    const { dir, watch } = await watched(10, false);
    await fs.writeFile(path.join(dir, 'half-written.tmp'), '');
    // Many scans pass within this bound; none may count the temp file as mail.
    expect(await watch.next(300)).toBe(false);
  });

  it('resolves false at the deadline when nothing arrives', async () => {
    const { watch } = await watched(10, false);
    expect(await watch.next(50)).toBe(false);
  });

  it('INV-CANCEL-SAFE: resolves false as soon as the signal aborts, and at once if it already did', async () => {
    const { watch } = await watched(60_000, true);
    const abort = new AbortController();
    const woke = watch.next(600_000, abort.signal);
    abort.abort();
    expect(await woke).toBe(false);
    expect(await watch.next(600_000, abort.signal)).toBe(false);
  });

  it('every subscriber is woken; an unsubscribed one is not', async () => {
    const { dir, watch } = await watched(10, false);
    const a: number[] = [];
    const b: number[] = [];
    const offA = watch.subscribe(() => a.push(1));
    const offB = watch.subscribe(() => b.push(1));
    offB();
    await fs.writeFile(path.join(dir, 'm1.json'), '{}');
    expect(await watch.next(60_000)).toBe(true);
    offA();
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual([]);
  });

  it('close stops watching: a later write wakes no one', async () => {
    const { dir, watch } = await watched(10, true);
    const calls: number[] = [];
    watch.subscribe(() => calls.push(1));
    watch.close();
    await fs.writeFile(path.join(dir, 'm1.json'), '{}');
    // close() clears the listeners; a fresh waiter only ends at its deadline.
    expect(await watch.next(100)).toBe(false);
    expect(calls).toEqual([]);
  });
});

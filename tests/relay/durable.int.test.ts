import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEventFile } from '../../src/log/read.js';
import { loadConfig } from '../../src/relay/config.js';
import { RelaySession } from '../../src/relay/serve-session.js';
import { tempDir } from '../support/cleanup.js';
import { REPO } from '../support/paths.js';
import { runCli, spawnChild } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

const FIXTURE = path.join(REPO, 'tests/fixtures/send-loop.mjs');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Runs the send loop until it has acknowledged `after` sends, then kills it with SIGKILL mid-flight. */
async function runAndKill(home: string, after: number): Promise<string[]> {
  const child = spawnChild(process.execPath, [FIXTURE, 'sink'], {
    env: { RELAY_HOME: home, RELAY_RATE_LIMIT: '1000000' },
  });
  await waitFor(`${after} acknowledged sends`, () => {
    if (!child.running) throw new Error(`the send loop exited: ${child.stderr()}`);
    return child.stdout().split('\n').length > after;
  });
  await child.stop('SIGKILL');
  expect(child.process.signalCode).toBe('SIGKILL');
  // Only complete lines: each is a send whose promise resolved before the kill.
  return child.stdout().split('\n').slice(0, -1);
}

describe('INV-DURABLE under kill -9 (real processes)', () => {
  it('INV-DURABLE, INV-ATOMIC, INV-ORDER: every acknowledged send survives SIGKILL of its sender, once, in order; no partial file; clean removes leftover temp files', async () => {
    const home = await tempDir('relay-durable-');
    const sink = await RelaySession.start({
      config: loadConfig({ RELAY_HOME: home, RELAY_SESSION_NAME: 'sink' }, home),
    });
    await sink.stop();

    const acked: string[] = [];
    for (let round = 0; round < 5; round++) {
      acked.push(...(await runAndKill(home, 1 + Math.floor(Math.random() * 40))));
    }
    expect(acked.length).toBeGreaterThanOrEqual(5);
    // A sender restarted with a fresh clock still continues after its own last stamp.
    expect(acked, 'INV-ORDER across restarts').toEqual([...acked].sort());

    // INV-ATOMIC: whatever moment the kills hit, every event file in the log is complete.
    for (const area of ['inbox', 'settled', 'archive', 'sessions']) {
      for (const file of await filesUnder(path.join(home, area))) {
        const read = await readEventFile(file);
        expect(read.ok, `${path.relative(home, file)} ${read.ok ? '' : read.reason}`).toBe(true);
      }
    }
    // The sender's index entries are not events but names: each is an empty file (spec/events.md).
    for (const file of await filesUnder(path.join(home, 'sent'))) expect((await fs.stat(file)).size).toBe(0);

    // A send killed before its link(2) leaves a partial temp file (plus any the kills above left).
    const tmp = path.join(home, 'tmp');
    await fs.mkdir(tmp, { recursive: true });
    await fs.writeFile(path.join(tmp, '4242-000000000000.tmp'), '{"v":1,"kind":"sent","key":"17');
    const leftovers = await fs.readdir(tmp);

    const env = { RELAY_HOME: home };
    const delivered: string[] = [];
    for (;;) {
      const polled = await runCli(['poll', '--name', 'sink', '--json'], { env });
      expect(polled.stderr, 'readers ignore temp files').toBe('');
      const { messages, remaining } = JSON.parse(polled.stdout) as {
        messages: { key: string; from: string }[];
        remaining: number;
      };
      delivered.push(...messages.map((m) => m.key));
      expect(messages.every((m) => m.from === 'writer')).toBe(true);
      if (remaining === 0) break;
    }
    expect(new Set(delivered).size, 'INV-ONCE: nothing delivered twice').toBe(delivered.length);
    expect(delivered, 'INV-ORDER: delivery order is send order').toEqual([...delivered].sort());
    const missing = acked.filter((k) => !delivered.includes(k));
    expect(missing, 'INV-DURABLE: every acknowledged send is delivered').toEqual([]);
    // A send in flight at the kill may have landed without being acknowledged; nothing else may.
    expect(delivered.length - acked.length).toBeLessThanOrEqual(5 * 3);

    // Temp files are only removed once they are old (a live writer may still own a fresh one).
    const old = new Date(Date.now() - 11 * 60_000);
    for (const f of leftovers) await fs.utimes(path.join(tmp, f), old, old);
    const cleaned = await runCli(['clean', '--json'], { env });
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(JSON.parse(cleaned.stdout).tempRemoved).toBe(leftovers.length);
    expect(await fs.readdir(tmp)).toEqual([]);
  });
});

import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readEventFile } from '../../src/log/read.js';
import { loadConfig } from '../../src/relay/config.js';
import { RelaySession } from '../../src/relay/serve-session.js';
import { baseEnv, cli, REPO, Reaper, tempDir, waitFor } from '../support/processes.js';

const FIXTURE = path.join(REPO, 'tests/fixtures/send-loop.mjs');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Runs the send loop until it has acknowledged `after` sends, then kills it with SIGKILL mid-flight. */
async function runAndKill(reaper: Reaper, home: string, after: number): Promise<string[]> {
  const child = reaper.track(
    spawn(process.execPath, [FIXTURE, 'sink'], {
      env: baseEnv({ RELAY_HOME: home, RELAY_RATE_LIMIT: '1000000' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await waitFor(`${after} acknowledged sends (stderr: ${err})`, () =>
    out.split('\n').length > after ? true : undefined,
  );
  child.kill('SIGKILL');
  await exited;
  expect(child.signalCode).toBe('SIGKILL');
  // Only complete lines: each is a send whose promise resolved before the kill.
  return out.split('\n').slice(0, -1);
}

describe('INV-DURABLE under kill -9 (real processes)', () => {
  const reaper = new Reaper();
  afterEach(() => reaper.reap());

  it('INV-DURABLE, INV-ATOMIC, INV-ORDER: every acknowledged send survives SIGKILL of its sender, once, in order; no partial file; clean removes leftover temp files', async () => {
    const home = reaper.dir(await tempDir('relay-durable-'));
    const sink = await RelaySession.start({
      config: loadConfig({ RELAY_HOME: home, RELAY_SESSION_NAME: 'sink' }, home),
    });
    await sink.stop();

    const acked: string[] = [];
    for (let round = 0; round < 5; round++) {
      acked.push(...(await runAndKill(reaper, home, 1 + Math.floor(Math.random() * 40))));
    }
    expect(acked.length).toBeGreaterThanOrEqual(5);
    // A sender restarted with a fresh clock still continues after its own last stamp.
    expect(acked, 'INV-ORDER across restarts').toEqual([...acked].sort());

    // INV-ATOMIC: whatever moment the kills hit, every event file in the log is complete.
    for (const area of ['inbox', 'settled', 'archive', 'sessions', 'sent']) {
      for (const file of await filesUnder(path.join(home, area))) {
        const read = await readEventFile(file);
        expect(read.ok, `${path.relative(home, file)} ${read.ok ? '' : read.reason}`).toBe(true);
      }
    }

    // A send killed before its link(2) leaves a partial temp file (plus any the kills above left).
    const tmp = path.join(home, 'tmp');
    await fs.mkdir(tmp, { recursive: true });
    await fs.writeFile(path.join(tmp, '4242-000000000000.tmp'), '{"v":1,"kind":"sent","key":"17');
    const leftovers = await fs.readdir(tmp);

    const env = { RELAY_HOME: home };
    const delivered: string[] = [];
    for (;;) {
      const polled = await cli(reaper, ['poll', '--name', 'sink', '--json'], { env });
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
    const cleaned = await cli(reaper, ['clean', '--json'], { env });
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(JSON.parse(cleaned.stdout).tempRemoved).toBe(leftovers.length);
    expect(await fs.readdir(tmp)).toEqual([]);
  });
});

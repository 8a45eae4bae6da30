import { spawn } from 'node:child_process';
import { promises as fs, watch } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SentEvent } from '../../src/log/events.js';
import { loadConfig } from '../../src/relay/config.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext } from '../../src/relay/serve-session.js';
import { tempDir } from '../support/cleanup.js';
import { childEnv } from '../support/env.js';
import { CLI } from '../support/paths.js';
import { serve } from '../support/processes.js';
import { joinOnce } from '../support/store.js';

/**
 * INV-TAKE with real processes and real kill -9: a receiving `serve` killed while its relay_poll is in
 * flight (at random moments, and at the instant its first lease file appears), and `claude-relay hook`
 * killed right after it leased. Every acknowledged message must still reach a model; one the killed taker
 * may have shown comes back marked (again).
 */

const LINE = /^ {2}\[\w+\|local\] From alice: #([a-z0-9]{6})( \(again\))? /;

interface Tally {
  /** Times each message id reached a model. */
  readonly seen: Map<string, number>;
  again: number;
}

function count(tally: Tally, text: string): void {
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    tally.seen.set(m[1] as string, (tally.seen.get(m[1] as string) ?? 0) + 1);
    if (m[2]) tally.again++;
  }
}

/**
 * Kills `pid` the instant a new lease file is linked into `dir` (inotify through fs.watch, and a listing in
 * case the file came before the watch): a take is then under way and its answer not yet out. Leases a
 * killed taker left behind earlier do not count.
 */
async function killAtLease(dir: string, pid: number, ms: number): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const before = new Set(await fs.readdir(dir));
  await new Promise<void>((resolve) => {
    let done = false;
    const kill = () => {
      if (done) return;
      done = true;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      watcher.close();
      clearTimeout(timer);
      resolve();
    };
    const check = () =>
      void fs.readdir(dir).then((names) => {
        if (names.some((n) => !before.has(n))) kill();
      });
    const watcher = watch(dir, (_event, file) => {
      if (file !== null && !before.has(file)) kill();
      else check();
    });
    const timer = setTimeout(kill, ms);
    check();
  });
}

/** Whether the killed process `pid` left a lease behind: it died between a take and its commit. */
async function leftBy(dir: string, pid: number): Promise<boolean> {
  for (const file of await fs.readdir(dir).catch(() => [] as string[])) {
    const text = await fs.readFile(path.join(dir, file), 'utf8').catch(() => '{}');
    if ((JSON.parse(text) as { by?: { pid?: number } }).by?.pid === pid) return true;
  }
  return false;
}

describe('INV-TAKE: a taker killed between its take and its answer loses nothing', () => {
  it('30 kill -9 of a receiving serve mid-poll and 8 of the hook right after its lease: 0 lost', async () => {
    const home = await tempDir('relay-kill-');
    await joinOnce(home, 'bob');
    const env = { RELAY_HOME: home, RELAY_SESSION_NAME: 'alice', RELAY_RATE_LIMIT: '100000' };
    const alice = createContext({ config: loadConfig(env, home), name: 'alice' });
    const sent: SentEvent[] = [];
    const send = async (n: number) => {
      for (let i = 0; i < n; i++)
        sent.push((await sendMessage(alice, { to: 'bob', message: `m${sent.length}` })).event);
    };
    const tally: Tally = { seen: new Map(), again: 0 };
    const leases = path.join(home, 'leases', 'bob');

    let leftLeased = 0;
    for (let round = 0; round < 30; round++) {
      // A dozen at a time: the commit after the answer (one fsync each) is then a window a kill can land in.
      await send(12);
      const bob = await serve({ home, name: 'bob' });
      const answer = bob.call('relay_poll').then(
        (a) => a.text,
        () => '',
      );
      if (round % 2 === 0) await killAtLease(leases, bob.pid, 2000);
      else await new Promise((r) => setTimeout(r, 2 + (round % 9) * 2));
      await bob.kill('SIGKILL');
      count(tally, await answer);
      if (await leftBy(leases, bob.pid)) leftLeased++;
    }

    for (let round = 0; round < 8; round++) {
      await send(2);
      const hook = spawn(process.execPath, [CLI, 'hook'], {
        env: childEnv({ RELAY_HOME: home, RELAY_SESSION_NAME: 'bob' }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      hook.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const exited = new Promise((r) => hook.once('close', r));
      hook.stdin.end(JSON.stringify({ hook_event_name: 'UserPromptSubmit', cwd: home }));
      await killAtLease(leases, hook.pid ?? 0, 5000);
      await exited;
      if (await leftBy(leases, hook.pid ?? 0)) leftLeased++;
      if (out.trim() !== '') {
        const context = (JSON.parse(out) as { hookSpecificOutput: { additionalContext: string } })
          .hookSpecificOutput.additionalContext;
        count(tally, context);
      }
    }

    // A new session drains the inbox: what the dead takers held comes back to it.
    const last = await serve({ home, name: 'bob' });
    for (;;) {
      const text = (await last.call('relay_poll')).text;
      if (text === 'No new messages.') break;
      count(tally, text);
    }
    await last.close();

    const lost = sent.filter((m) => !tally.seen.has(m.id)).map((m) => m.body);
    const duplicated = [...tally.seen.values()].filter((n) => n > 1).length;
    console.error(
      `kill mid-take: sent ${sent.length}, kills that left leases ${leftLeased} of 38, lost ${lost.length}, duplicated ${duplicated}, marked again ${tally.again}`,
    );
    expect(lost, 'INV-TAKE: every acknowledged message reached a model').toEqual([]);
    // A second showing is only ever the marked one: the first was the killed taker's.
    expect(duplicated).toBeLessThanOrEqual(tally.again);
    // The kills really landed between a take and its commit, and what they held came back marked.
    expect(leftLeased).toBeGreaterThan(0);
    expect(tally.again).toBeGreaterThan(0);
  }, 240_000);
});

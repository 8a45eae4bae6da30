import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/relay/config.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext } from '../../src/relay/serve-session.js';
import { defer, tempDir } from '../support/cleanup.js';
import { serve } from '../support/processes.js';
import { joinOnce } from '../support/store.js';
import { waitFor } from '../support/wait.js';

/**
 * INV-DISK-FULL on a real full file system: a 3 MB tmpfs filled to its last page with 40 messages waiting.
 * A session starts, answers reads and refuses writes in one sentence; a poll that cannot lease says so and
 * takes nothing; one that leases a few before the disk fills returns those; when the `consumed` after the
 * answer cannot be written, the messages come back marked `again` once their taker is gone. Nothing is
 * lost, and every message shown twice is marked.
 */

const PAGE = 4096;
const COUNT = 40;

/** Mounting needs root (CI runs as root); without it the test says so and does not run. */
async function mountTmpfs(): Promise<string | undefined> {
  const dir = await tempDir('relay-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  defer(() => {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  });
  return dir;
}

const probe = await mountTmpfs();
const skipReason = probe === undefined ? 'mount -t tmpfs is not permitted here (needs root)' : '';

/** Appends pages to `file` until the file system refuses, then single bytes: the disk is then full. */
async function fill(file: string): Promise<void> {
  const handle = await fs.open(file, 'a');
  try {
    for (const size of [64 * PAGE, PAGE, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          await handle.write(chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          break;
        }
      }
    }
  } finally {
    await handle.close();
  }
  await expect(fs.writeFile(`${file}.more`, 'x')).rejects.toThrow(/ENOSPC/);
}

const bodies = (text: string) => [...text.matchAll(/msg-(\d\d)/g)].map((m) => m[1] as string);

describe.skipIf(probe === undefined)(`INV-DISK-FULL: a full disk loses nothing ${skipReason}`, () => {
  it('given 40 waiting messages on a full tmpfs, a serve starts, answers truly, and every message arrives', async () => {
    const mnt = probe as string;
    const root = path.join(mnt, 'home');
    await joinOnce(root, 'bob');
    await joinOnce(root, 'alice');
    const alice = createContext({ config: loadConfig({ RELAY_HOME: root }, root), name: 'alice' });
    for (let i = 0; i < COUNT; i++) {
      await sendMessage(alice, { to: 'bob', message: `msg-${String(i).padStart(2, '0')}` });
    }
    const filler = path.join(mnt, 'filler');
    await fill(filler);

    // A new session starts on the full disk, answers reads and refuses writes in the disk's sentence.
    // Its join cannot be written yet: it starts anyway, and joins once there is room.
    const first = await serve({ home: root, name: 'bob', waitForJoin: false });
    expect((await first.call('relay_sessions')).isError).toBe(false);
    const send = await first.call('relay_send', { to: 'alice', message: 'hi' });
    expect(send.isError).toBe(true);
    expect(send.text).toMatch(/^The disk holding .* is full while .*; free some space and try again/);
    const none = await first.call('relay_poll');
    expect(none.isError).toBe(true);
    expect(none.text).toMatch(/is full .*nothing was lost/);
    expect((await fs.readdir(path.join(root, 'inbox/bob'))).length).toBe(COUNT);

    // Room for three leases: the poll returns what it leased; their `consumed` cannot be written.
    await fs.truncate(filler, (await fs.stat(filler)).size - 3 * PAGE);
    const some = await first.call('relay_poll');
    expect(some.isError).toBe(false);
    const shownFirst = bodies(some.text);
    expect(shownFirst.length).toBeGreaterThan(0);
    expect(shownFirst.length).toBeLessThan(COUNT);
    expect(some.text).toMatch(
      new RegExp(`${COUNT - shownFirst.length} more waiting|${shownFirst.length} new`),
    );
    const settledDir = path.join(root, 'settled/bob');
    const consumedBefore = (await fs.readdir(settledDir).catch(() => [] as string[])).length;

    // Space comes back after the taker died: everything arrives, the leased ones marked `again`.
    // Killed first: its consume runs just after its answer, and must not find the space freed.
    await first.kill('SIGKILL');
    await fs.rm(filler);
    const second = await serve({ home: root, name: 'bob' });
    const rest = await second.call('relay_poll');
    expect(rest.isError).toBe(false);
    const shownAfter = bodies(rest.text);

    const all = [...shownFirst, ...shownAfter];
    const unique = new Set(all);
    const lost = COUNT - unique.size;
    const duplicated = all.length - unique.size;
    const again = (rest.text.match(/\(again\)/g) ?? []).length;
    process.stderr.write(
      `full disk: ${COUNT} waiting, first poll returned ${shownFirst.length} (consumed written: ${consumedBefore}), ` +
        `lost ${lost}, duplicated ${duplicated}, marked again ${again}\n`,
    );
    expect(consumedBefore).toBe(0);
    expect(lost).toBe(0);
    expect(duplicated).toBe(shownFirst.length);
    expect(again).toBe(duplicated);
    // Each message gets its one `consumed` once the answer carrying it was written.
    await waitFor('every message consumed', async () => (await fs.readdir(settledDir)).length === COUNT);
  });
});

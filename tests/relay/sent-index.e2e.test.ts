import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { filesUnder } from '../support/home.js';
import { runCli } from '../support/processes.js';

/**
 * The sender's `sent/` index holds what the rate window and the clock need (the key), never the body: after
 * `clean`, no file outside the archive holds a delivered body, in a new store and in an old one whose index
 * entries were hard links of the whole event.
 */

const ARCHIVED = /^(archive|snapshots)\//;

async function holding(root: string, text: string): Promise<string[]> {
  const out: string[] = [];
  for (const file of await filesUnder(root)) {
    if (ARCHIVED.test(file)) continue;
    if ((await fs.readFile(path.join(root, file), 'utf8').catch(() => '')).includes(text)) out.push(file);
  }
  return out;
}

async function deliver(root: string, body: string): Promise<void> {
  const env = { RELAY_HOME: root };
  expect((await runCli(['send', 'bob', body, '--from', 'alice'], { env })).code).toBe(0);
  const polled = await runCli(['poll', '--name', 'bob'], { env });
  expect(polled.stdout).toContain(body);
}

describe('the sent index after clean', () => {
  it('INV-COMPACT: a delivered body is only in the archive once clean ran; the index still counts the send', async () => {
    const root = await tempDir();
    await deliver(root, 'the launch code is 0000');
    const index = await fs.readdir(path.join(root, 'sent', 'alice'));
    expect(index).toHaveLength(1);
    expect(await holding(root, 'the launch code')).not.toContain(`sent/alice/${index[0]}`);
    expect((await runCli(['clean'], { env: { RELAY_HOME: root } })).code).toBe(0);
    expect(await holding(root, 'the launch code')).toEqual([]);
    expect(await fs.readdir(path.join(root, 'sent', 'alice'))).toEqual(index);
  });

  it('an old store whose index entry is a hard link of the whole event: still counted, slimmed by clean', async () => {
    const root = await tempDir();
    const env = { RELAY_HOME: root };
    expect((await runCli(['send', 'bob', 'old format body', '--from', 'alice'], { env })).code).toBe(0);
    // As older versions wrote it: the index entry is a second name of the inbox event.
    const [file] = await fs.readdir(path.join(root, 'inbox', 'bob'));
    const entry = path.join(root, 'sent', 'alice', file as string);
    await fs.rm(entry);
    await fs.link(path.join(root, 'inbox', 'bob', file as string), entry);
    expect(await holding(root, 'old format body')).toContain(`sent/alice/${file}`);

    // Counted by the rate limit as before: a limit of one a minute refuses the next send.
    const limited = await runCli(['send', 'bob', 'second', '--from', 'alice'], {
      env: { ...env, RELAY_RATE_LIMIT: '1' },
    });
    expect(limited.code).toBe(1);
    expect(limited.stderr).toMatch(/rate limit/i);

    expect((await runCli(['poll', '--name', 'bob'], { env })).stdout).toContain('old format body');
    expect((await runCli(['clean'], { env })).code).toBe(0);
    expect(await holding(root, 'old format body')).toEqual([]);
    expect(await fs.readdir(path.join(root, 'sent', 'alice'))).toEqual([file]);
  });
});

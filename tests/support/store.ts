import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SentEvent, SettledEvent } from '../../src/log/events.js';
import { loadConfig } from '../../src/relay/config.js';
import { RelaySession } from '../../src/relay/serve-session.js';

/** What a test reads of, or puts in, a store on disk, as a session of its own would. */

/** Registers `name` in the store (it joined once and left), so that sends to it are accepted. */
export async function joinOnce(root: string, name: string): Promise<void> {
  const config = loadConfig({ RELAY_HOME: root, RELAY_SESSION_NAME: name }, root);
  const session = await RelaySession.start({ config });
  await session.stop();
}

/**
 * Every message ever sent to `to` (waiting or archived), in key order. A poll may move a file from the
 * inbox to the archive meanwhile: the inbox is read first, so a moving file is seen in one place or both.
 */
export async function sentTo(root: string, to: string): Promise<SentEvent[]> {
  const out = new Map<string, SentEvent>();
  for (const area of ['inbox', 'archive']) {
    const dir = path.join(root, area, to);
    for (const file of await fs.readdir(dir).catch(() => [] as string[])) {
      if (!file.endsWith('.json')) continue;
      const text = await fs.readFile(path.join(dir, file), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const event = JSON.parse(text) as SentEvent;
      out.set(event.key, event);
    }
  }
  return [...out.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** The outcome recorded for each settled message of `to`, by key. */
export async function settledOf(root: string, to: string): Promise<Map<string, SettledEvent>> {
  const dir = path.join(root, 'settled', to);
  const out = new Map<string, SettledEvent>();
  for (const file of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!file.endsWith('.json')) continue;
    const event = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as SettledEvent;
    out.set(event.key, event);
  }
  return out;
}

/** The `#id` a `claude-relay send` printed (`sent #abc123 to api`). */
export function sentId(stdout: string): string {
  const m = /#([a-z0-9]{6}) /.exec(stdout);
  if (!m?.[1]) throw new Error(`no message id in ${JSON.stringify(stdout)}`);
  return m[1];
}

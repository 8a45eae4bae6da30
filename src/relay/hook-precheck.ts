import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SessionEvent } from '../log/events.js';
import { SESSION_FILE, StorePaths } from '../log/paths.js';
import { foldSessions, liveSessions } from '../projections/sessions.js';
import type { RelayConfig } from './config.js';
import { isPidAlive } from './context.js';
import { findSessionName } from './find-session.js';

/** The hook events that can put mail in front of the model. */
export const DELIVERING_EVENTS = ['UserPromptSubmit', 'SessionStart', 'PostToolUse', 'Stop'] as const;

/** False when the event can never deliver: another event, or a Stop the hook itself already blocked once. */
export function canDeliver(event: {
  readonly hook_event_name?: unknown;
  readonly stop_hook_active?: unknown;
}): boolean {
  if (!(DELIVERING_EVENTS as readonly unknown[]).includes(event.hook_event_name)) return false;
  return !(event.hook_event_name === 'Stop' && event.stop_hook_active === true);
}

/** Just enough of a session event to pick the hook's session; the full path validates with zod. */
function looseSessionEvent(text: string): SessionEvent | undefined {
  try {
    const e = JSON.parse(text) as Record<string, unknown>;
    const common =
      typeof e.name === 'string' &&
      typeof e.instance === 'string' &&
      typeof e.at === 'string' &&
      typeof e.atMs === 'number';
    if (common && e.kind === 'left') return e as unknown as SessionEvent;
    if (common && e.kind === 'heartbeat' && typeof e.pid === 'number' && typeof e.machine === 'string') {
      return e as unknown as SessionEvent;
    }
  } catch {
    // unreadable: the full path reports it
  }
  return undefined;
}

/** A directory's entries; none when it does not exist. Any other failure is thrown, for the hook to report. */
async function entries(dir: string, notAFolder: 'skip' | 'throw' = 'throw'): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || (code === 'ENOTDIR' && notAFolder === 'skip')) return [];
    throw e;
  }
}

async function newestSessionEvents(paths: StorePaths): Promise<SessionEvent[]> {
  const out: SessionEvent[] = [];
  const root = paths.dir('sessions');
  for (const name of await entries(root)) {
    const newest = new Map<string, string>();
    // A stray file among the session folders (.DS_Store) is skipped, as the full path skips it.
    for (const file of await entries(path.join(root, name), 'skip')) {
      const m = SESSION_FILE.exec(file);
      const prev = m ? newest.get(m[2] as string) : undefined;
      if (m && (prev === undefined || file > prev)) newest.set(m[2] as string, file);
    }
    for (const file of newest.values()) {
      const event = looseSessionEvent(await fs.readFile(path.join(root, name, file), 'utf8').catch(() => ''));
      if (event) out.push(event);
    }
  }
  return out;
}

/**
 * The hook runs on every tool call, so its common answer, "nothing waits", must not pay for loading the
 * schemas: zod alone takes about 100 ms to load in a fresh process here. This finds the session the way the
 * full hook does, from plain JSON, and only looks whether its inbox holds a message file. It can only say
 * "maybe": then the full, validated path runs and decides.
 */
export async function mayHaveMail(
  config: Pick<RelayConfig, 'root' | 'machine' | 'desiredName' | 'nameFromEnv' | 'liveWindowMs'>,
  ancestors: readonly number[],
  cwd: string | undefined,
): Promise<boolean> {
  const paths = new StorePaths(config.root);
  const view = { now: Date.now(), windowMs: config.liveWindowMs, machine: config.machine, isPidAlive };
  const live = liveSessions(foldSessions(await newestSessionEvents(paths)), view);
  const name = findSessionName(live, ancestors, config, cwd);
  const files = await entries(paths.dir('inbox', name));
  return files.some((f) => f.endsWith('.json'));
}

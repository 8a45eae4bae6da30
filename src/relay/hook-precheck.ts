import type { SessionEvent } from '../log/events.js';
import { StorePaths } from '../log/paths.js';
import { inboxHoldsFiles, newestSessionTexts } from '../log/precheck.js';
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
  const events = (await newestSessionTexts(paths)).flatMap((text) => looseSessionEvent(text) ?? []);
  const live = liveSessions(foldSessions(events), view);
  return inboxHoldsFiles(paths, findSessionName(live, ancestors, config, cwd));
}

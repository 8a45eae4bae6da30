import path from 'node:path';
import type { HeartbeatEvent } from '../log/events.js';
import { toName } from '../log/names.js';
import type { RelayConfig } from './config.js';

/**
 * Which live session a helper process (a hook) belongs to. The client that runs the hook also runs that
 * session's `serve`, so the session whose recorded ancestors include the nearest of the hook's own
 * ancestors is the one. Without such a match (another OS, a server started by hand), the name is resolved
 * as `serve` resolves it: RELAY_SESSION_NAME, else the basename of the working directory.
 */
export function findSessionName(
  live: readonly HeartbeatEvent[],
  myAncestors: readonly number[],
  config: Pick<RelayConfig, 'machine' | 'desiredName' | 'nameFromEnv'>,
  cwd: string | undefined,
): string {
  const mine = live.filter((s) => s.machine === config.machine && s.ancestors !== undefined);
  for (const pid of myAncestors) {
    const match = mine.find((s) => s.pid === pid || s.ancestors?.includes(pid));
    if (match) return match.name;
  }
  if (config.nameFromEnv || cwd === undefined) return config.desiredName;
  return toName(path.basename(cwd));
}

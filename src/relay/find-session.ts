import path from 'node:path';
import type { HeartbeatEvent } from '../log/events.js';
import { toName } from '../log/names.js';
import type { RelayConfig } from './config.js';

/**
 * Which live session a helper process (a hook) belongs to. The client that runs the hook also runs that
 * session's `serve`, so the session whose recorded ancestors include the nearest of the hook's own
 * ancestors is the one. Without such a match (another OS, a server started by hand), the name is resolved
 * as `serve` resolves it: RELAY_SESSION_NAME, else the basename of the working directory.
 *
 * Only the nearest ancestors on both sides count: the client is the hook's parent or grandparent (a shell
 * may stand between) and the server's parent or grandparent (`npx` may stand between). Further up are the
 * terminal, tmux or sshd, which many clients share; matching there would hand one session's mail to another.
 */
export const NEAR_ANCESTORS = 3;

export function findSessionName(
  live: readonly HeartbeatEvent[],
  myAncestors: readonly number[],
  config: Pick<RelayConfig, 'machine' | 'desiredName' | 'nameFromEnv'>,
  cwd: string | undefined,
): string {
  const mine = live.filter((s) => s.machine === config.machine && s.ancestors !== undefined);
  for (const pid of myAncestors.slice(0, NEAR_ANCESTORS)) {
    const match = mine.find((s) => s.pid === pid || s.ancestors?.slice(0, NEAR_ANCESTORS).includes(pid));
    if (match) return match.name;
  }
  if (config.nameFromEnv || cwd === undefined) return config.desiredName;
  return toName(path.basename(cwd));
}

/**
 * Every child process the bench starts, by pid, so a failed run still kills what it started (and only
 * that: never by name).
 */
const pids = new Set<number>();

export function track(pid: number | undefined): void {
  if (pid !== undefined) pids.add(pid);
}

export function untrack(pid: number | undefined): void {
  if (pid !== undefined) pids.delete(pid);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function killAll(): number {
  let killed = 0;
  for (const pid of pids) {
    if (isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // Gone between the check and the kill.
      }
    }
  }
  pids.clear();
  return killed;
}

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The parent pid of `pid`, or undefined when it cannot be read (gone, or no permission). */
export function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    if (process.platform === 'linux' || process.platform === 'win32') return undefined;
  }
  try {
    const out = execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8', timeout: 1000 });
    const ppid = Number(out.trim());
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The chain of ancestors of `pid`, nearest first, without pid 1. A `serve` records its own; a hook run by
 * the same client finds the session whose chain meets its own nearest: the client process they share.
 */
export function ancestorsOf(pid: number, depth = 6): number[] {
  const out: number[] = [];
  let current: number | undefined = pid;
  for (let i = 0; i < depth; i++) {
    current = current === undefined ? undefined : parentOf(current);
    if (current === undefined || current <= 1) break;
    out.push(current);
  }
  return out;
}

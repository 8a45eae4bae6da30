import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SESSION_FILE, type StorePaths } from './paths.js';

/**
 * The hook's fast path reads the store without the schemas (loading zod costs more than the whole answer
 * "nothing waits"): the newest session files as plain JSON, and whether an inbox holds a message file. It
 * imports nothing that loads zod; the full, validated path decides whenever this says "maybe".
 */

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

/** The text of the newest session file of each instance of each session, unvalidated ('' if unreadable). */
export async function newestSessionTexts(paths: StorePaths): Promise<string[]> {
  const out: string[] = [];
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
      out.push(await fs.readFile(path.join(root, name, file), 'utf8').catch(() => ''));
    }
  }
  return out;
}

/** Whether `inbox/<name>/` holds any message file (settled or not: only a hint). */
export async function inboxHoldsFiles(paths: StorePaths, name: string): Promise<boolean> {
  return (await entries(paths.dir('inbox', name))).some((f) => f.endsWith('.json'));
}

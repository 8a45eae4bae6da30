import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readRegular } from './confined.js';
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
  const root = await paths.checked(paths.dir('sessions'));
  for (const name of await entries(root)) {
    // A session folder that is a symbolic link is never followed (the full path reports it).
    if ((await fs.lstat(path.join(root, name)).catch(() => undefined))?.isSymbolicLink()) continue;
    const newest = new Map<string, string>();
    // A stray file among the session folders (.DS_Store) is skipped, as the full path skips it.
    for (const file of await entries(path.join(root, name), 'skip')) {
      const m = SESSION_FILE.exec(file);
      const prev = m ? newest.get(m[2] as string) : undefined;
      if (m && (prev === undefined || file > prev)) newest.set(m[2] as string, file);
    }
    for (const file of newest.values()) {
      // Only a regular file is read: a FIFO named like a session file must not hang the hook.
      const read = await readRegular(path.join(root, name, file), 64 * 1024);
      out.push(read.ok ? read.text : '');
    }
  }
  return out;
}

/**
 * Whether `inbox/<name>/` holds any message file (settled or not: only a hint). An inbox reached through a
 * symbolic link says "maybe", so the full path refuses it in a sentence.
 */
export async function inboxHoldsFiles(paths: StorePaths, name: string): Promise<boolean> {
  const dir = paths.dir('inbox', name);
  if (
    !(await paths.checked(dir).then(
      () => true,
      () => false,
    ))
  )
    return true;
  return (await entries(dir)).some((f) => f.endsWith('.json'));
}

import { type Dirent, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Area, StorePaths } from './paths.js';

/** The areas laid out as `area/<name>/<file>`, where only real folders of regular files belong. */
const PER_NAME: readonly Area[] = [
  'inbox',
  'settled',
  'leases',
  'archive',
  'sessions',
  'claims',
  'outbox',
  'forwarded',
  'sent',
];

async function entries(dir: string): Promise<Dirent[]> {
  return fs.readdir(dir, { withFileTypes: true }).catch(() => []);
}

/**
 * Entries no reader may open, for `clean` to quarantine: a symbolic link anywhere in the per-name areas
 * (an area, a name's folder, a file), and in a name's folder anything that is not a regular file (a FIFO,
 * a socket, a folder named like an event). Listed without following any link; nothing is opened.
 */
export async function hostileEntries(paths: StorePaths): Promise<string[]> {
  const out: string[] = [];
  for (const area of PER_NAME) {
    const top = paths.dir(area);
    const st = await fs.lstat(top).catch(() => undefined);
    if (st?.isSymbolicLink()) out.push(top);
    if (!st?.isDirectory()) continue;
    for (const name of await entries(top)) {
      const dir = path.join(top, name.name);
      if (name.isSymbolicLink() || (!name.isDirectory() && !name.isFile())) out.push(dir);
      if (!name.isDirectory()) continue;
      for (const file of await entries(dir)) {
        if (!file.isFile()) out.push(path.join(dir, file.name));
      }
    }
  }
  return out;
}

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Store } from './store.js';

/** Files that `clean` moved aside into `quarantine/`, as paths relative to it, sorted. Never read or moved. */
export async function listQuarantined(store: Store): Promise<string[]> {
  const root = store.paths.dir('quarantine');
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(path.relative(root, full));
    }
  };
  await walk(root);
  return out.sort();
}

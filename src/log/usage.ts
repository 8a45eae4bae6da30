import { type Dirent, promises as fs } from 'node:fs';
import path from 'node:path';

export interface Usage {
  readonly bytes: number;
  readonly files: number;
}

/** Bytes and files under a folder of the store, for `status`; a folder that is not there holds none. */
export async function usageOf(dir: string): Promise<Usage> {
  let bytes = 0;
  let files = 0;
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return { bytes, files };
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = await usageOf(full);
      bytes += sub.bytes;
      files += sub.files;
    } else {
      const st = await fs.lstat(full).catch(() => undefined);
      bytes += st?.size ?? 0;
      files++;
    }
  }
  return { bytes, files };
}

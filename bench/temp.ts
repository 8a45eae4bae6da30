import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Temp directories of one run; everything the bench writes lives in one of them and goes with `removeAll`. */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(label: string): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), `claude-relay-bench-${label}-`));
    this.dirs.push(dir);
    return dir;
  }

  async remove(dir: string): Promise<void> {
    await fs.rm(dir, { recursive: true, force: true });
    const i = this.dirs.indexOf(dir);
    if (i >= 0) this.dirs.splice(i, 1);
  }

  async removeAll(): Promise<void> {
    for (const dir of this.dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
  }
}

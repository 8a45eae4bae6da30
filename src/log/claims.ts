import { promises as fs } from 'node:fs';
import { createEventFile } from './append.js';
import type { ClaimedEvent } from './events.js';
import type { StorePaths } from './paths.js';
import type { Problems } from './problems.js';

const CLAIM_FILE = /^\d{10}\.json$/;

/** `claims/<name>/<generation>.json`: who holds a session name; the highest generation wins. */
export class ClaimFiles {
  constructor(
    private readonly paths: StorePaths,
    private readonly problems: Problems,
  ) {}

  /** The highest claim on a session name, or undefined when nobody ever claimed it. */
  async top(name: string): Promise<ClaimedEvent | undefined> {
    const dir = this.paths.dir('claims', name);
    const gens = (await this.problems.list(dir)).filter((f) => CLAIM_FILE.test(f)).sort();
    for (let i = gens.length - 1; i >= 0; i--) {
      const file = this.paths.file('claims', name, gens[i] as string);
      const read = await this.problems.read(file);
      if (read.ok && read.event.kind === 'claimed' && read.event.name === name) return read.event;
      if (!read.ok && !read.missing) this.problems.report(file, read.reason);
    }
    return undefined;
  }

  /** Creates a claim exclusively: true when this caller got that generation of the name. */
  async claim(event: ClaimedEvent): Promise<boolean> {
    const file = this.paths.file('claims', event.name, `${String(event.gen).padStart(10, '0')}.json`);
    const won = (await createEventFile(this.paths.dir('tmp'), file, JSON.stringify(event))) === 'created';
    if (won && event.gen > 2) {
      // Generations below the one just superseded can never win again.
      const old = String(event.gen - 1).padStart(10, '0');
      for (const f of await this.problems.list(this.paths.dir('claims', event.name))) {
        if (CLAIM_FILE.test(f) && f < `${old}.json`)
          await fs.rm(this.paths.file('claims', event.name, f), { force: true });
      }
    }
    return won;
  }
}

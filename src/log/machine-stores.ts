import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isValidName, validateName } from './names.js';
import type { ProblemSink } from './problems.js';
import { Store } from './store.js';

/**
 * The embedded relay's data: one store per machine under `<data>/machines/<m>/`, each laid out exactly like
 * a client's `RELAY_HOME`, so `claude-relay status` with `RELAY_HOME` set to one of them shows it.
 */
export class MachineStores {
  private readonly root: string;
  private readonly stores = new Map<string, Store>();

  constructor(
    dataDir: string,
    private readonly onProblem: ProblemSink = () => {},
  ) {
    this.root = path.resolve(dataDir, 'machines');
  }

  of(machine: string): Store {
    let store = this.stores.get(machine);
    if (!store) {
      store = new Store(path.join(this.root, validateName(machine, 'machine')), this.onProblem);
      this.stores.set(machine, store);
    }
    return store;
  }

  /** Machines that have a store, sorted; none when the data directory is not there yet. */
  async machines(): Promise<string[]> {
    try {
      return (await fs.readdir(this.root)).filter(isValidName).sort();
    } catch {
      return [];
    }
  }

  /** Undefined when the data directory can be written; else why not. */
  async unwritable(): Promise<string | undefined> {
    try {
      await fs.mkdir(this.root, { recursive: true });
      await fs.access(this.root, fs.constants.W_OK);
      return undefined;
    } catch (e) {
      return `data directory not writable (${(e as NodeJS.ErrnoException).code})`;
    }
  }
}

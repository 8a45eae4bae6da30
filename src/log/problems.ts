import path from 'node:path';
import { fsError, isRelayError } from '../errors.js';
import { refuseLinks } from './confined.js';
import { KEY_PATTERN } from './events.js';
import { listNames, type ReadResult, readEventFile } from './read.js';

/** A file the log had to skip: reported, never fatal, never deleted. */
export interface Problem {
  readonly file: string;
  readonly reason: string;
}

export type ProblemSink = (problem: Problem) => void;

/** Reports each bad file once per process, so a corrupt file does not flood the log on every poll. */
export class Problems {
  private readonly reported = new Set<string>();

  constructor(
    private readonly sink: ProblemSink,
    private readonly root: string,
  ) {}

  report(file: string, reason: string): void {
    if (this.reported.has(file)) return;
    this.reported.add(file);
    this.sink({ file, reason });
  }

  /**
   * A directory's entries, sorted; absent is empty, one reached through a symbolic link is refused, any
   * other failure a coded error naming the store.
   */
  async list(dir: string): Promise<string[]> {
    try {
      await refuseLinks(this.root, dir);
      return await listNames(dir);
    } catch (e) {
      throw isRelayError(e) ? e : fsError(e, 'listing a directory', this.root);
    }
  }

  /** Reads one event file of the store; one in a folder reached through a symbolic link is refused unread. */
  async read(file: string): Promise<ReadResult> {
    return (await this.readAll(path.dirname(file), [path.basename(file)]))[0] as ReadResult;
  }

  /** Reads event files of one folder at once, the folder checked once for them all. */
  async readAll(dir: string, names: readonly string[]): Promise<ReadResult[]> {
    try {
      await refuseLinks(this.root, dir);
    } catch (e) {
      if (!isRelayError(e)) throw e;
      return names.map(() => ({
        ok: false,
        missing: false,
        reason: 'is inside a symbolic link, never followed',
      }));
    }
    return Promise.all(names.map((name) => readEventFile(path.join(dir, name))));
  }

  /** The message keys of a folder of `<key>.json` files; any other name is reported and skipped. */
  async keysIn(dir: string): Promise<string[]> {
    return (await this.list(dir)).flatMap((file) => {
      const key = file.endsWith('.json') ? file.slice(0, -'.json'.length) : '';
      if (KEY_PATTERN.test(key)) return [key];
      this.report(`${dir}/${file}`, 'is not a message file name the relay writes');
      return [];
    });
  }
}

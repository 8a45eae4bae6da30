import { fsError } from '../errors.js';
import { KEY_PATTERN } from './events.js';
import { listNames } from './read.js';

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

  /** A directory's entries, sorted; absent is empty, any other failure a coded error naming the store. */
  async list(dir: string): Promise<string[]> {
    try {
      return await listNames(dir);
    } catch (e) {
      throw fsError(e, 'listing a directory', this.root);
    }
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

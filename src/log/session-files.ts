import { promises as fs } from 'node:fs';
import { isRelayError } from '../errors.js';
import { createEventFile } from './append.js';
import type { HeartbeatEvent, LeftEvent, SessionEvent } from './events.js';
import { SESSION_FILE, type StorePaths } from './paths.js';
import type { Problems } from './problems.js';

/** `sessions/<name>/`: each instance's heartbeats and its `left`; a server compacts its own superseded beats. */
export class SessionFiles {
  constructor(
    private readonly paths: StorePaths,
    private readonly problems: Problems,
  ) {}

  async append(event: SessionEvent): Promise<string> {
    const file = `${event.at}-${event.instance}.json`;
    const target = this.paths.file('sessions', event.name, file);
    await createEventFile(this.paths.dir('tmp'), target, JSON.stringify(event));
    return file;
  }

  /** Removes an instance's own heartbeats that a newer event of the same instance supersedes. */
  async compact(name: string, instance: string, keepFile: string): Promise<void> {
    for (const file of await this.files(name)) {
      const m = SESSION_FILE.exec(file);
      if (m && m[2] === instance && file < keepFile) {
        await fs.rm(this.paths.file('sessions', name, file), { force: true });
      }
    }
  }

  async names(): Promise<string[]> {
    return (await this.problems.list(this.paths.dir('sessions'))).filter((n) => !n.startsWith('.'));
  }

  /** File names in `sessions/<name>/`, unfiltered (clean looks at what the readers skip). */
  files(name: string): Promise<string[]> {
    return this.problems.list(this.paths.dir('sessions', name));
  }

  /** Whether a session of this name ever joined (its folder exists, whatever it holds now). */
  async known(name: string): Promise<boolean> {
    const st = await fs.lstat(this.paths.dir('sessions', name)).catch(() => undefined);
    return st?.isDirectory() === true;
  }

  /** The newest event of each instance of each session: what the sessions projection needs, and no more. */
  async latest(): Promise<SessionEvent[]> {
    const out: SessionEvent[] = [];
    for (const name of await this.names()) out.push(...(await this.latestOf(name)));
    return out;
  }

  /** The newest event of each instance of one session name: a send asks only about its recipient. */
  async latestOf(name: string): Promise<SessionEvent[]> {
    let dir: string;
    try {
      dir = this.paths.dir('sessions', name);
    } catch {
      this.problems.report(`${this.paths.dir('sessions')}/${name}`, 'is not a valid session name');
      return [];
    }
    const newest = new Map<string, string>();
    const files = await this.problems.list(dir).catch((e: unknown) => {
      // A session folder that is a symbolic link is reported, never followed; one that vanished is empty.
      if (isRelayError(e) && e.code === 'outside_root') this.problems.report(dir, e.message);
      return [] as string[];
    });
    for (const file of files) {
      const m = SESSION_FILE.exec(file);
      if (!m) {
        if (!file.endsWith('.tmp'))
          this.problems.report(`${dir}/${file}`, 'is not a session event file name');
        continue;
      }
      const instance = m[2] as string;
      const prev = newest.get(instance);
      if (prev === undefined || file > prev) newest.set(instance, file);
    }
    const out: SessionEvent[] = [];
    for (const file of newest.values()) {
      const event = await this.read(name, file);
      if (event) out.push(event);
    }
    return out;
  }

  async read(name: string, file: string): Promise<HeartbeatEvent | LeftEvent | undefined> {
    const where = this.paths.file('sessions', name, file);
    const read = await this.problems.read(where);
    if (!read.ok) {
      if (!read.missing) this.problems.report(where, read.reason);
      return undefined;
    }
    const e = read.event;
    if ((e.kind === 'heartbeat' || e.kind === 'left') && e.name === name) return e;
    this.problems.report(where, `holds a ${e.kind} event that does not belong in sessions/${name}`);
    return undefined;
  }
}

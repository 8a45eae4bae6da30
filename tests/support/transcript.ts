import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Golden MCP transcripts (spec/transcripts/*.json, described in spec/transcripts/README.md): each step is
 * one call by one session, and `expect` is the exact text of the answer after the placeholder scheme below
 * has replaced what changes from run to run. Nothing else is normalised.
 */
export interface SessionSpec {
  /** RELAY_SESSION_NAME; the session's label (its key) by default. */
  readonly name?: string;
  /** Working directory under the fake home, so it shows as `~/<cwd>`. */
  readonly cwd: string;
  readonly env?: Record<string, string>;
}

export interface Step {
  readonly session: string;
  /** A tool name, `tools/list`, or `$close` (the client closes the session's stdin). */
  readonly tool: string;
  readonly arguments?: Record<string, unknown>;
  /** The answer's text; for `tools/list`, the list of tools. */
  readonly expect?: unknown;
  /** Whether the answer is a tool error; false when left out. */
  readonly isError?: boolean;
}

export interface Transcript {
  readonly title: string;
  readonly sessions: Record<string, SessionSpec>;
  readonly steps: readonly Step[];
}

export const TRANSCRIPTS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../spec/transcripts',
);

export async function loadTranscripts(): Promise<{ file: string; transcript: Transcript }[]> {
  const files = (await fs.readdir(TRANSCRIPTS)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      file,
      transcript: JSON.parse(await fs.readFile(path.join(TRANSCRIPTS, file), 'utf8')) as Transcript,
    })),
  );
}

/** What varies between runs, in one place: message ids, pids, uptimes, waits and the temp paths. */
export class Placeholders {
  private readonly ids = new Map<string, number>();
  private readonly pids = new Map<number, string>();
  private readonly paths: [string, string][] = [];

  pid(pid: number, label: string): void {
    this.pids.set(pid, label);
  }

  path(real: string, placeholder: string): void {
    this.paths.push([real, placeholder]);
    this.paths.sort((a, b) => b[0].length - a[0].length);
  }

  /** The real id for `<id:N>` in an argument. */
  idFor(n: number): string {
    for (const [id, k] of this.ids) if (k === n) return id;
    throw new Error(`<id:${n}> is used before any answer showed it`);
  }

  normalise(text: string): string {
    let out = text;
    for (const [real, placeholder] of this.paths) out = out.split(real).join(placeholder);
    out = out.replace(/#([a-z0-9]{6})(?![a-z0-9])/g, (_, id: string) => {
      if (!this.ids.has(id)) this.ids.set(id, this.ids.size + 1);
      return `#<id:${this.ids.get(id)}>`;
    });
    out = out.replace(/\bpid (\d+)/g, (_, pid: string) => {
      const label = this.pids.get(Number(pid));
      return label === undefined ? 'pid <pid>' : `pid <pid:${label}>`;
    });
    out = out.replace(/\bup (<1m|\d+m)\b/g, 'up <uptime>');
    out = out.replace(/\bwait \d+s\b/g, 'wait <seconds>s');
    return out;
  }

  /** Arguments with `<id:N>` replaced by real ids and `{ "$repeat": s, "times": n }` expanded. */
  substitute(value: unknown): unknown {
    if (typeof value === 'string') {
      return value.replace(/<id:(\d+)>/g, (_, n: string) => this.idFor(Number(n)));
    }
    if (Array.isArray(value)) return value.map((v) => this.substitute(v));
    if (value !== null && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if (typeof o.$repeat === 'string' && typeof o.times === 'number') return o.$repeat.repeat(o.times);
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, this.substitute(v)]));
    }
    return value;
  }
}

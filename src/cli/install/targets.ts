import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  formatJson,
  parseJsonConfig,
  withHooks,
  withoutHooks,
  withoutServer,
  withServer,
} from './json-config.js';
import { serverBlock, withBlock, withoutBlock } from './toml-block.js';

export const CLIENTS = ['claude', 'codex', 'gemini', 'cursor'] as const;
export type Client = (typeof CLIENTS)[number];
export type Scope = 'user' | 'project';

export interface InstallOptions {
  readonly client: Client;
  readonly scope: Scope;
  readonly hooks: boolean;
  /** The command that runs claude-relay (`serve` and `hook` are appended). */
  readonly command: readonly string[];
  readonly home: string;
  readonly cwd: string;
  readonly name: string;
}

/** One config file and how to add our entries to its text, or take them out. */
export interface Target {
  readonly file: string;
  readonly add: (text: string | undefined) => string;
  readonly remove: (text: string) => string;
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function jsonTarget(
  file: string,
  edit: (c: ReturnType<typeof parseJsonConfig>) => ReturnType<typeof parseJsonConfig>,
  undo: typeof edit,
): Target {
  // A file that needs no edit keeps its bytes: re-serialising it would rewrite the user's formatting.
  const change = (text: string | undefined, how: typeof edit) => {
    const config = parseJsonConfig(text, file);
    const changed = how(config);
    return text !== undefined && isDeepStrictEqual(changed, config) ? text : formatJson(changed);
  };
  return { file, add: (text) => change(text, edit), remove: (text) => change(text, undo) };
}

/** The files `install` edits for a client and scope, and what it puts in each. */
export function targetsFor(o: InstallOptions): Target[] {
  const [command, ...rest] = o.command as [string, ...string[]];
  const args = [...rest, 'serve'];
  const hookCommand = [...o.command, 'hook'].map(shellQuote).join(' ');
  const base = o.scope === 'user' ? o.home : o.cwd;
  switch (o.client) {
    case 'claude': {
      const serverFile =
        o.scope === 'user' ? path.join(o.home, '.claude.json') : path.join(o.cwd, '.mcp.json');
      const entry = { type: 'stdio', command, args, env: {} };
      const out = [
        jsonTarget(
          serverFile,
          (c) => withServer(c, o.name, entry),
          (c) => withoutServer(c, o.name),
        ),
      ];
      if (o.hooks) {
        const settings = path.join(base, '.claude', 'settings.json');
        out.push(
          jsonTarget(
            settings,
            (c) => withHooks(c, hookCommand),
            (c) => withoutHooks(c, hookCommand),
          ),
        );
      }
      return out;
    }
    case 'gemini':
    case 'cursor': {
      const file =
        o.client === 'gemini'
          ? path.join(base, '.gemini', 'settings.json')
          : path.join(base, '.cursor', 'mcp.json');
      return [
        jsonTarget(
          file,
          (c) => withServer(c, o.name, { command, args }),
          (c) => withoutServer(c, o.name),
        ),
      ];
    }
    case 'codex': {
      const file = path.join(o.scope === 'user' ? o.home : o.cwd, '.codex', 'config.toml');
      const block = serverBlock(o.name, command, args);
      return [
        { file, add: (text) => withBlock(text, block, o.name), remove: (text) => withoutBlock(text, o.name) },
      ];
    }
  }
}

/** How this very CLI was started, so the registered server runs the same build. */
export function currentCommand(argv1: string | undefined = process.argv[1]): string[] {
  if (argv1 === undefined || argv1.includes(`${path.sep}_npx${path.sep}`))
    return ['npx', '-y', 'claude-session-relay'];
  return [process.execPath, path.resolve(argv1)];
}

export function defaultHome(): string {
  return os.homedir();
}

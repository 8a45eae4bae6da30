import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { packageVersion } from '../../version.js';
import {
  formatJson,
  HOOK_EVENTS,
  type HookLayout,
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
  /** The environment install runs in: Codex gets the RELAY_* settings found there (see RELAY_ENV). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The settings a relay session reads from its environment (src/relay/config.ts, remote/config.ts). */
export const RELAY_ENV = [
  'RELAY_HOME',
  'RELAY_SESSION_NAME',
  'RELAY_MACHINE_NAME',
  'RELAY_REMOTE_URL',
  'RELAY_API_KEY',
  'RELAY_PUSH',
  'RELAY_RATE_LIMIT',
  'RELAY_TTL_SECONDS',
] as const;

function relayEnv(env: InstallOptions['env'] = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of RELAY_ENV) {
    const v = env[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out;
}

/** Each client's hook events (the ones that can reach the model: see src/relay/hook-clients.ts). */
const CLIENT_HOOKS = {
  codex: { events: HOOK_EVENTS },
  gemini: { events: ['SessionStart', 'BeforeAgent', 'AfterTool'] },
  cursor: { events: ['sessionStart', 'postToolUse', 'stop'], flat: true },
} as const satisfies Record<string, HookLayout>;

/** One config file and how to add our entries to its text, or take them out. */
export interface Target {
  readonly file: string;
  readonly add: (text: string | undefined) => string;
  readonly remove: (text: string) => string;
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

type Json = ReturnType<typeof parseJsonConfig>;

function jsonTarget(file: string, edit: (c: Json) => Json, undo: typeof edit): Target {
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
  // Written for the other clients, so the hook need not tell their events apart from Claude Code's.
  const clientHook = `${hookCommand} --client ${o.client}`;
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
    case 'gemini': {
      // One file holds both the server and the hooks.
      const hooks = (c: Json) => (o.hooks ? withHooks(c, clientHook, CLIENT_HOOKS.gemini) : c);
      return [
        jsonTarget(
          path.join(base, '.gemini', 'settings.json'),
          (c) => hooks(withServer(c, o.name, { command, args })),
          (c) => withoutHooks(withoutServer(c, o.name), clientHook),
        ),
      ];
    }
    case 'cursor': {
      const out = [
        jsonTarget(
          path.join(base, '.cursor', 'mcp.json'),
          (c) => withServer(c, o.name, { command, args }),
          (c) => withoutServer(c, o.name),
        ),
      ];
      if (o.hooks)
        out.push(hooksTarget(path.join(base, '.cursor', 'hooks.json'), clientHook, CLIENT_HOOKS.cursor));
      return out;
    }
    case 'codex': {
      const file = path.join(base, '.codex', 'config.toml');
      const block = serverBlock(o.name, command, args, relayEnv(o.env));
      const out: Target[] = [
        { file, add: (text) => withBlock(text, block, o.name), remove: (text) => withoutBlock(text, o.name) },
      ];
      if (o.hooks)
        out.push(hooksTarget(path.join(base, '.codex', 'hooks.json'), clientHook, CLIENT_HOOKS.codex));
      return out;
    }
  }
}

/** A hooks-only JSON file (Codex, Cursor); Cursor's names its format version, which stays on uninstall. */
function hooksTarget(file: string, command: string, layout: HookLayout): Target {
  const versioned = (c: Json): Json => (layout.flat ? { version: 1, ...c } : c);
  return jsonTarget(
    file,
    (c) => withHooks(versioned(c), command, layout),
    (c) => withoutHooks(c, command),
  );
}

/** The form that runs on any machine with Node: this very version, fetched by npx. */
export function portableCommand(version = packageVersion()): string[] {
  return ['npx', '-y', `claude-session-relay@${version}`];
}

/**
 * How this very CLI was started, so the registered server runs the same build: a checkout or a global
 * install by its path; a run through npx (its cache is not a place to depend on) as the same version by npx.
 */
export function currentCommand(argv1: string | undefined = process.argv[1]): string[] {
  if (argv1 === undefined || argv1.includes(`${path.sep}_npx${path.sep}`)) return portableCommand();
  return [process.execPath, path.resolve(argv1)];
}

export function defaultHome(): string {
  return os.homedir();
}

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ABSENT_SUFFIX, BACKUP_SUFFIX } from '../../src/cli/install/apply.js';
import { HOOK_EVENTS } from '../../src/cli/install/json-config.js';
import { CLIENTS } from '../../src/cli/install/targets.js';
import {
  type Dirs,
  dirs,
  HOOK,
  OTHER_HOOKS,
  readJson,
  relay,
  type Scope,
  SERVER,
  snapshot,
  write,
} from './install-files.js';

/**
 * `claude-relay install` / `uninstall` on a temporary HOME (and a temporary project folder for
 * `--scope project`): what each client's files hold after install, idempotence, --dry-run, and a round trip
 * that leaves every file byte for byte as it was.
 */

const hookOf = (client: string) => `${HOOK} --client ${client}`;
const CODEX_HOOKS = { events: HOOK_EVENTS, command: hookOf('codex') };
const GEMINI_EVENTS = ['SessionStart', 'BeforeAgent', 'AfterTool'];

/** A Claude-shaped hooks file (Codex): ours on every event, the user's kept as they were. */
async function checkHooks(
  file: string,
  want: { events: readonly string[]; command: string },
  pre: boolean,
): Promise<void> {
  const config = (await readJson(file)) as typeof OTHER_HOOKS & { hooks: Record<string, unknown[]> };
  const ours = { hooks: [{ type: 'command', command: want.command }] };
  if (!pre) return expect(config).toEqual({ hooks: Object.fromEntries(want.events.map((e) => [e, [ours]])) });
  for (const event of want.events) expect(config.hooks[event]).toContainEqual(ours);
  expect(config.hooks.Stop).toEqual([...OTHER_HOOKS.hooks.Stop, ours]);
  expect(config.hooks.PreToolUse).toEqual(OTHER_HOOKS.hooks.PreToolUse);
  expect(config.model).toBe('opus');
}

/** Per client: the files install edits, content that was there before, and a check of the result. */
interface ClientCase {
  readonly files: (base: string, d: Dirs, scope: Scope) => string[];
  readonly existing: (base: string, d: Dirs, scope: Scope) => Record<string, string>;
  /** `pre`: the files held `existing` before install. */
  readonly check: (base: string, d: Dirs, scope: Scope, pre: boolean) => Promise<void>;
}

const claudeServerFile = (d: Dirs, scope: Scope) =>
  scope === 'user' ? path.join(d.home, '.claude.json') : path.join(d.project, '.mcp.json');

const jsonClient = (dir: string, file: string): ClientCase => ({
  files: (base) => [path.join(base, dir, file)],
  // Four-space indent and no final newline: a rewrite could not reproduce these bytes by chance.
  existing: (base) => ({
    [path.join(base, dir, file)]: JSON.stringify(
      { theme: 'Dracula', mcpServers: { other: { command: 'x' } } },
      null,
      4,
    ),
  }),
  check: async (base, _d, _scope, pre) => {
    const config = await readJson(path.join(base, dir, file));
    if (!pre) return expect(config).toEqual({ mcpServers: { relay: SERVER } });
    expect(config.mcpServers).toEqual({ other: { command: 'x' }, relay: SERVER });
    expect(config.theme).toBe('Dracula');
  },
});

const CASES: Record<string, ClientCase> = {
  claude: {
    files: (base, d, scope) => [claudeServerFile(d, scope), path.join(base, '.claude', 'settings.json')],
    existing: (base, d, scope) => ({
      [claudeServerFile(d, scope)]: JSON.stringify(
        {
          numStartups: 12,
          mcpServers: { github: { type: 'stdio', command: 'gh-mcp', args: [] } },
          projects: {},
        },
        null,
        4,
      ),
      [path.join(base, '.claude', 'settings.json')]: `${JSON.stringify(OTHER_HOOKS, null, 1)}\n`,
    }),
    check: async (base, d, scope, pre) => {
      const server = await readJson(claudeServerFile(d, scope));
      const relay = { type: 'stdio', ...SERVER, env: {} };
      const settings = (await readJson(path.join(base, '.claude', 'settings.json'))) as typeof OTHER_HOOKS & {
        hooks: Record<string, unknown[]>;
      };
      const ours = { hooks: [{ type: 'command', command: HOOK }] };
      if (!pre) {
        expect(server).toEqual({ mcpServers: { relay } });
        expect(settings).toEqual({ hooks: Object.fromEntries(HOOK_EVENTS.map((e) => [e, [ours]])) });
        return;
      }
      expect(server.mcpServers).toEqual({ github: { type: 'stdio', command: 'gh-mcp', args: [] }, relay });
      expect(server.numStartups).toBe(12);
      expect(settings.model).toBe('opus');
      for (const event of HOOK_EVENTS) expect(settings.hooks[event]).toContainEqual(ours);
      expect(settings.hooks.Stop).toEqual([...OTHER_HOOKS.hooks.Stop, ours]);
      expect(settings.hooks.PreToolUse).toEqual(OTHER_HOOKS.hooks.PreToolUse);
    },
  },
  codex: {
    files: (base) => [path.join(base, '.codex', 'config.toml'), path.join(base, '.codex', 'hooks.json')],
    existing: (base) => ({
      [path.join(base, '.codex', 'config.toml')]:
        'model = "o3"  # a comment kept as is\n\n[mcp_servers.other]\ncommand = "other-mcp"\nargs = []',
      [path.join(base, '.codex', 'hooks.json')]: `${JSON.stringify(OTHER_HOOKS, null, 1)}\n`,
    }),
    check: async (base, _d, _scope, pre) => {
      const text = await fs.readFile(path.join(base, '.codex', 'config.toml'), 'utf8');
      const block = '[mcp_servers.relay]\ncommand = "claude-relay"\nargs = ["serve"]\n';
      await checkHooks(path.join(base, '.codex', 'hooks.json'), CODEX_HOOKS, pre);
      if (!pre) return expect(text).toBe(block);
      expect(text).toContain(block);
      expect(text.startsWith('model = "o3"  # a comment kept as is\n\n[mcp_servers.other]\n')).toBe(true);
      expect(text.match(/^\[mcp_servers\.relay\]$/gm)).toHaveLength(1);
    },
  },
  gemini: {
    ...jsonClient('.gemini', 'settings.json'),
    check: async (base, _d, _scope, pre) => {
      const file = path.join(base, '.gemini', 'settings.json');
      const { hooks, ...config } = await readJson(file);
      expect(hooks).toEqual(
        Object.fromEntries(
          GEMINI_EVENTS.map((e) => [e, [{ hooks: [{ type: 'command', command: hookOf('gemini') }] }]]),
        ),
      );
      if (!pre) return expect(config).toEqual({ mcpServers: { relay: SERVER } });
      expect(config).toEqual({ theme: 'Dracula', mcpServers: { other: { command: 'x' }, relay: SERVER } });
    },
  },
  cursor: {
    ...jsonClient('.cursor', 'mcp.json'),
    files: (base) => [path.join(base, '.cursor', 'mcp.json'), path.join(base, '.cursor', 'hooks.json')],
    existing: (base, d, scope) => ({
      ...jsonClient('.cursor', 'mcp.json').existing(base, d, scope),
      [path.join(base, '.cursor', 'hooks.json')]: JSON.stringify({
        version: 1,
        hooks: { stop: [{ command: './notify.sh' }], beforeShellExecution: [{ command: './guard.sh' }] },
      }),
    }),
    check: async (base, d, scope, pre) => {
      await jsonClient('.cursor', 'mcp.json').check(base, d, scope, pre);
      const hooks = await readJson(path.join(base, '.cursor', 'hooks.json'));
      const ours = { command: hookOf('cursor') };
      if (!pre) {
        return expect(hooks).toEqual({
          version: 1,
          hooks: { sessionStart: [ours], postToolUse: [ours], stop: [ours] },
        });
      }
      expect(hooks).toEqual({
        version: 1,
        hooks: {
          stop: [{ command: './notify.sh' }, ours],
          beforeShellExecution: [{ command: './guard.sh' }],
          sessionStart: [ours],
          postToolUse: [ours],
        },
      });
    },
  },
};

function caseOf(client: string): ClientCase {
  const c = CASES[client];
  if (!c) throw new Error(`no expectations for install --client ${client}: add them to CASES`);
  return c;
}

async function roundTrip(client: string, scope: Scope, preexisting: boolean): Promise<void> {
  const c = caseOf(client);
  const d = await dirs();
  const base = scope === 'user' ? d.home : d.project;
  if (preexisting)
    for (const [file, text] of Object.entries(c.existing(base, d, scope))) await write(file, text);
  const originals = new Map<string, string | undefined>();
  for (const file of c.files(base, d, scope))
    originals.set(file, await fs.readFile(file, 'utf8').catch(() => undefined));
  const before = await snapshot(d);
  const args = ['--client', client, '--scope', scope, '--command', 'claude-relay'];

  const dry = await relay(d, ['install', ...args, '--dry-run']);
  expect(dry.stderr).toBe('');
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain('dry run: nothing was written');
  for (const file of c.files(base, d, scope)) expect(dry.stdout).toContain(file);
  expect(await snapshot(d)).toEqual(before);

  const installed = await relay(d, ['install', ...args]);
  expect(installed.stderr).toBe('');
  expect(installed.code).toBe(0);
  await c.check(base, d, scope, preexisting);
  // A backup of each edited file holds its original bytes; a file that did not exist gets an empty marker.
  for (const [file, original] of originals) {
    if (original === undefined) expect(await fs.readFile(file + ABSENT_SUFFIX, 'utf8')).toBe('');
    else expect(await fs.readFile(file + BACKUP_SUFFIX, 'utf8')).toBe(original);
  }
  const after = await snapshot(d);

  const again = await relay(d, ['install', ...args]);
  expect(again.code).toBe(0);
  expect(again.stdout).toBe('already installed: nothing to change.\n');
  expect(await snapshot(d)).toEqual(after);

  const removed = await relay(d, ['uninstall', ...args]);
  expect(removed.stderr).toBe('');
  expect(removed.code).toBe(0);
  expect(await snapshot(d)).toEqual(before);

  const twice = await relay(d, ['uninstall', ...args]);
  expect(twice.code).toBe(0);
  expect(twice.stdout).toBe('nothing to remove: claude-relay is not registered there.\n');
  expect(await snapshot(d)).toEqual(before);
}

describe('install / uninstall round trip', () => {
  it('covers every client install knows', () => {
    for (const client of CLIENTS) expect(Object.keys(CASES)).toContain(client);
  });

  for (const client of CLIENTS) {
    for (const scope of ['user', 'project'] as const) {
      it(`INV-INSTALL-ROUNDTRIP: --client ${client} --scope ${scope}, over files that held other settings`, async () => {
        await roundTrip(client, scope, true);
      });
    }
    it(`INV-INSTALL-ROUNDTRIP: --client ${client} on an empty HOME: files created, then removed`, async () => {
      await roundTrip(client, 'user', false);
    });
  }
});

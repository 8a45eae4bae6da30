import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ABSENT_SUFFIX, BACKUP_SUFFIX } from '../../src/cli/install/apply.js';
import { HOOK_EVENTS } from '../../src/cli/install/json-config.js';
import { CLIENTS, currentCommand, portableCommand } from '../../src/cli/install/targets.js';
import { packageVersion } from '../../src/version.js';
import { tempDir } from '../support/cleanup.js';
import { CLI, REPO } from '../support/paths.js';
import { runCli } from '../support/processes.js';

/**
 * `claude-relay install` / `uninstall` on a temporary HOME (and a temporary project folder for
 * `--scope project`): what each client's files hold after install, idempotence, --dry-run, and a round trip
 * that leaves every file byte for byte as it was.
 */

type Scope = 'user' | 'project';

interface Dirs {
  readonly home: string;
  readonly project: string;
}

async function dirs(): Promise<Dirs> {
  return { home: await tempDir('relay-home-'), project: await tempDir('relay-project-') };
}

/** Every file under the temp HOME and project folder, with its bytes. */
async function snapshot(d: Dirs): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (label: string, dir: string, rel = ''): Promise<void> => {
    for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) await walk(label, dir, child);
      else out[`${label}/${child}`] = await fs.readFile(path.join(dir, child), 'base64');
    }
  };
  await walk('~', d.home);
  await walk('.', d.project);
  return out;
}

function relay(d: Dirs, args: string[]) {
  return runCli(args, { env: { HOME: d.home, RELAY_MACHINE_NAME: undefined }, cwd: d.project });
}

async function write(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
}

const SERVER = { command: 'claude-relay', args: ['serve'] };
const HOOK = 'claude-relay hook';
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

const OTHER_HOOKS = {
  model: 'opus',
  hooks: {
    Stop: [{ hooks: [{ type: 'command', command: 'notify-send done' }] }],
    PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: './guard.sh' }] }],
  },
};

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

describe('install options and errors', () => {
  it('registers the very CLI that ran install when --command is not given', async () => {
    const d = await dirs();
    const ran = await relay(d, ['install']);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('Start a new Claude Code session');
    const server = (await readJson(path.join(d.home, '.claude.json'))) as {
      mcpServers: Record<string, { command: string; args: string[] }>;
    };
    expect(server.mcpServers.relay).toMatchObject({ command: process.execPath, args: [CLI, 'serve'] });
    const settings = await fs.readFile(path.join(d.home, '.claude', 'settings.json'), 'utf8');
    expect(settings).toContain(`${process.execPath} ${CLI} hook`);
  });

  it('--scope project without --command writes the portable npx form of this version, never a path, and says so', async () => {
    const d = await dirs();
    const version = (await readJson(path.join(REPO, 'package.json'))).version as string;
    const npx = `npx -y claude-session-relay@${version}`;
    const ran = await relay(d, ['install', '--scope', 'project']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`--scope project writes the portable \`${npx}\``);
    const server = await readJson(path.join(d.project, '.mcp.json'));
    expect(server).toEqual({
      mcpServers: {
        relay: {
          type: 'stdio',
          command: 'npx',
          args: ['-y', `claude-session-relay@${version}`, 'serve'],
          env: {},
        },
      },
    });
    const settings = await fs.readFile(path.join(d.project, '.claude', 'settings.json'), 'utf8');
    expect(settings).toContain(`"${npx} hook"`);
    expect(settings).not.toContain(process.execPath);
    expect((await relay(d, ['uninstall', '--scope', 'project'])).code).toBe(0);
  });

  it("the plugin's server and hooks run this very version through npx, as a shared file must", async () => {
    const npx = portableCommand((await readJson(path.join(REPO, 'package.json'))).version as string);
    expect(await readJson(path.join(REPO, '.mcp.json'))).toEqual({
      mcpServers: { relay: { command: npx[0], args: [...npx.slice(1), 'serve'] } },
    });
    const { hooks } = (await readJson(path.join(REPO, 'hooks', 'hooks.json'))) as {
      hooks: Record<string, [{ hooks: [{ command: string }] }]>;
    };
    for (const [event, [entry]] of Object.entries(hooks))
      expect(entry.hooks[0].command, event).toBe(`${npx.join(' ')} hook`);
    expect(Object.keys(hooks)).toEqual(['SessionStart', 'UserPromptSubmit', 'Stop']);
  });

  it('run through npx, it registers npx with the exact version it ran as', () => {
    const version = packageVersion();
    expect(
      currentCommand(path.join(os.tmpdir(), '_npx', 'abc', 'node_modules', '.bin', 'claude-relay')),
    ).toEqual(['npx', '-y', `claude-session-relay@${version}`]);
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--no-hooks registers the server only; --name names it', async () => {
    const d = await dirs();
    const ran = await relay(d, ['install', '--no-hooks', '--name', 'mail', '--command', 'claude-relay']);
    expect(ran.code).toBe(0);
    expect(await readJson(path.join(d.home, '.claude.json'))).toEqual({
      mcpServers: { mail: { type: 'stdio', ...SERVER, env: {} } },
    });
    await expect(fs.stat(path.join(d.home, '.claude', 'settings.json'))).rejects.toThrow();
  });

  it('finds our entries in a file formatted another way: nothing to change, not a byte rewritten', async () => {
    const d = await dirs();
    const entry = { type: 'stdio', ...SERVER, env: {} };
    await write(path.join(d.home, '.claude.json'), JSON.stringify({ mcpServers: { relay: entry } }, null, 4));
    const hooks = Object.fromEntries(
      HOOK_EVENTS.map((e) => [e, [{ hooks: [{ type: 'command', command: HOOK }] }]]),
    );
    await write(path.join(d.home, '.claude', 'settings.json'), JSON.stringify({ hooks }));
    const before = await snapshot(d);
    const ran = await relay(d, ['install', '--command', 'claude-relay']);
    expect(ran.stdout).toBe('already installed: nothing to change.\n');
    expect(await snapshot(d)).toEqual(before);
  });

  it('uninstall after the user edited the file takes out only our entries', async () => {
    const d = await dirs();
    const file = path.join(d.home, '.claude.json');
    await write(file, JSON.stringify({ numStartups: 1, mcpServers: { github: { command: 'gh' } } }, null, 2));
    const settings = path.join(d.home, '.claude', 'settings.json');
    await write(settings, `${JSON.stringify(OTHER_HOOKS)}\n`);
    const settingsBefore = await fs.readFile(settings, 'utf8');
    expect((await relay(d, ['install', '--command', 'claude-relay'])).code).toBe(0);
    // The client rewrites its file between install and uninstall.
    const edited = { ...(await readJson(file)), numStartups: 2 };
    await fs.writeFile(file, `${JSON.stringify(edited, null, 2)}\n`);

    expect((await relay(d, ['uninstall', '--command', 'claude-relay'])).code).toBe(0);
    expect(await readJson(file)).toEqual({ numStartups: 2, mcpServers: { github: { command: 'gh' } } });
    expect(await fs.readFile(settings, 'utf8')).toBe(settingsBefore);
    await expect(fs.stat(file + BACKUP_SUFFIX)).rejects.toThrow();
  });

  it('INV-INSTALL-ROUNDTRIP: an existing empty config file is kept, empty, by uninstall', async () => {
    const d = await dirs();
    const file = path.join(d.home, '.claude.json');
    await fs.writeFile(file, '');
    expect((await relay(d, ['install', '--no-hooks', '--command', 'claude-relay'])).code).toBe(0);
    expect((await relay(d, ['uninstall', '--no-hooks', '--command', 'claude-relay'])).code).toBe(0);
    expect(await fs.readFile(file, 'utf8')).toBe('');
  });

  it.each([
    ['~/.claude.json', '.claude.json'],
    ['~/.claude/settings.json', '.claude/settings.json'],
  ])('a %s that is not JSON: a clear error, exit 1, and no file changes', async (_label, rel) => {
    const d = await dirs();
    await write(path.join(d.home, '.claude.json'), '{"numStartups": 3}\n');
    await write(path.join(d.home, rel), '{ "numStartups": 3, // a comment\n}\n');
    const before = await snapshot(d);
    for (const verb of ['install', 'uninstall']) {
      const ran = await relay(d, [verb, '--command', 'claude-relay']);
      expect(ran.code).toBe(1);
      expect(ran.stdout).toBe('');
      expect(ran.stderr).toContain(`${path.join(d.home, rel)} is not valid JSON`);
      expect(ran.stderr.trim().split('\n')).toHaveLength(1);
      expect(await snapshot(d)).toEqual(before);
    }
  });

  it('a client or scope it does not know: exit 2 and a sentence naming the choices', async () => {
    const d = await dirs();
    const client = await relay(d, ['install', '--client', 'vim']);
    expect(client.code).toBe(2);
    expect(client.stderr).toContain('--client must be one of');
    const scope = await relay(d, ['install', '--scope', 'global']);
    expect(scope.code).toBe(2);
    expect(scope.stderr).toContain('--scope must be user or project');
    expect(await snapshot(d)).toEqual({});
  });
});

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKUP_SUFFIX } from '../../src/cli/install/apply.js';
import { HOOK_EVENTS } from '../../src/cli/install/json-config.js';
import { currentCommand, portableCommand } from '../../src/cli/install/targets.js';
import { packageVersion } from '../../src/version.js';
import { CLI, REPO } from '../support/paths.js';
import { dirs, HOOK, OTHER_HOOKS, readJson, relay, SERVER, snapshot, write } from './install-files.js';

/**
 * `claude-relay install` / `uninstall` options and refusals on a temporary HOME: which command it registers
 * (--command, --scope project, npx), --no-hooks and --name, files formatted or edited by the user, and a
 * client or scope it does not know.
 */

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

import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { childEnv } from '../support/env.js';
import { runCli } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

/**
 * The real Codex CLI and Gemini CLI, after `claude-relay install`: they list the server and start it with
 * the right store and session name, with no model and no network. The CLIs are large (about 520 MB
 * together), so they are not dev dependencies: `.ci/run` installs them into a cache prefix and points
 * RELAY_TEST_CLIENTS_BIN at its `node_modules/.bin`.
 */
const BIN = process.env.RELAY_TEST_CLIENTS_BIN ?? '';
const has = (cli: string) => BIN !== '' && existsSync(path.join(BIN, cli));
/** The suite's title, which says why it is skipped when it is. */
const title = (cli: string, name: string) =>
  has(cli)
    ? `${name} (real)`
    : `${name} (real): skipped, ${cli} is not installed; set RELAY_TEST_CLIENTS_BIN to a node_modules/.bin holding it (.ci/run does)`;

const run = promisify(execFile);

interface World {
  readonly home: string;
  readonly project: string;
  readonly store: string;
}

async function world(): Promise<World> {
  const root = await tempDir('relay-clients-');
  const w = {
    home: path.join(root, 'home'),
    project: path.join(root, 'work', 'proj'),
    store: path.join(root, 'store'),
  };
  for (const dir of Object.values(w)) await fs.mkdir(dir, { recursive: true });
  return w;
}

/** Whether a server that joined the store still runs (its heartbeat's pid is alive). */
async function anyServerAlive(store: string): Promise<boolean> {
  const root = path.join(store, 'sessions');
  for (const name of await fs.readdir(root).catch(() => [] as string[])) {
    for (const file of await fs.readdir(path.join(root, name)).catch(() => [] as string[])) {
      const text = await fs.readFile(path.join(root, name, file), 'utf8').catch(() => '{}');
      const pid = (JSON.parse(text) as { pid?: number }).pid;
      if (pid === undefined) continue;
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        // gone
      }
    }
  }
  return false;
}

/** The names of the sessions that joined the store (each serve writes a heartbeat under its name). */
async function joined(store: string): Promise<string[]> {
  return (await fs.readdir(path.join(store, 'sessions')).catch(() => [] as string[])).sort();
}

function client(w: World, cli: string, args: string[], extra: Record<string, string> = {}) {
  return run(path.join(BIN, cli), args, {
    cwd: w.project,
    env: childEnv({ HOME: w.home, CODEX_HOME: undefined, NO_COLOR: '1', ...extra }),
    timeout: 90_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

describe.skipIf(!has('codex'))(title('codex', 'Codex CLI'), () => {
  it('lists the server, and starts it with the store and name install wrote, though Codex passes no environment', async () => {
    const w = await world();
    const installed = await runCli(['install', '--client', 'codex'], {
      // Only the store and the name: the harness's own machine name would be written into Codex's env too.
      env: {
        HOME: w.home,
        RELAY_HOME: w.store,
        RELAY_SESSION_NAME: 'codexer',
        RELAY_MACHINE_NAME: undefined,
      },
      cwd: w.project,
    });
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);

    const listed = await client(w, 'codex', ['mcp', 'list']);
    expect(listed.stdout).toMatch(/^relay\s.*serve\s.*RELAY_HOME=\*+, RELAY_SESSION_NAME=\*+.*enabled/m);

    // The shell here has no RELAY_* at all: the store and the name can only come from the server's env table.
    await client(w, 'codex', ['debug', 'prompt-input', 'hi']);
    expect(await joined(w.store)).toEqual(['codexer']);
  });
});

describe.skipIf(!has('gemini'))(title('gemini', 'Gemini CLI'), () => {
  it('lists the server as connected, started with the store and name of the shell', async () => {
    const w = await world();
    const env = { HOME: w.home, RELAY_HOME: w.store, RELAY_SESSION_NAME: 'gem' };
    const installed = await runCli(['install', '--client', 'gemini'], { env: childEnv(env), cwd: w.project });
    expect(installed.code).toBe(0);
    // Gemini CLI starts no server of an untrusted folder; a person trusts it once, as here.
    await fs.writeFile(
      path.join(w.home, '.gemini', 'trustedFolders.json'),
      JSON.stringify({ [w.project]: 'TRUST_FOLDER' }),
    );
    const listed = await client(w, 'gemini', ['mcp', 'list'], env);
    expect(listed.stdout + listed.stderr).toMatch(/relay: .*serve \(stdio\) - Connected/);
    expect(await joined(w.store)).toEqual(['gem']);
    // The server Gemini started may still be writing its `left` as Gemini exits: let it finish first.
    await waitFor('the server Gemini started to exit', async () => !(await anyServerAlive(w.store)));
  });
});

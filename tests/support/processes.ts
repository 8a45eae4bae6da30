import { type ChildProcess, spawn } from 'node:child_process';
import { loadConfig } from '../../src/relay/config.js';
import { listLiveSessions } from '../../src/relay/live-sessions.js';
import { createContext } from '../../src/relay/serve-session.js';
import { defer } from './cleanup.js';
import { childEnv } from './env.js';
import { CLI, REPO } from './paths.js';
import { type Served, startStdio } from './stdio.js';
import { until, waitFor } from './wait.js';

/**
 * Real OS processes for the tests: `claude-relay serve` behind an SDK client over stdio, one-shot CLI runs,
 * long-running children (watch, fixture parents, relay servers, NATS). Children run the bundled CLI in dist/
 * (`npm run build` first). Each is stopped after its test (`defer`), so none outlives a failure.
 */

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A child process with its output collected as it comes. */
export class Child {
  private out = '';
  private err = '';
  /** Resolves with the exit code once the process exited and its stdio closed. */
  readonly exited: Promise<number | null>;

  constructor(readonly process: ChildProcess) {
    process.stdout?.on('data', (c: Buffer) => {
      this.out += c.toString('utf8');
    });
    process.stderr?.on('data', (c: Buffer) => {
      this.err += c.toString('utf8');
    });
    process.stdin?.on('error', () => {});
    this.exited = new Promise((resolve, reject) => {
      process.once('error', reject);
      process.once('close', (code) => resolve(code));
    });
  }

  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Sends `signal` (if still running) and waits until the process is reaped. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.running) this.process.kill(signal);
    await this.exited.catch(() => {});
  }
}

export interface SpawnOptions {
  /** Extra environment on top of `childEnv()`. */
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
}

/** Starts `command args` (stopped after the test: SIGTERM, then SIGKILL if it lingers). */
export function spawnChild(command: string, args: readonly string[], options: SpawnOptions = {}): Child {
  const child = new Child(
    spawn(command, [...args], {
      env: childEnv(options.env),
      cwd: options.cwd ?? REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  defer(async () => {
    if (!child.running) return;
    child.process.kill('SIGTERM');
    const gone = await Promise.race([child.exited.then(() => true), until(5000).then(() => false)]);
    if (!gone) await child.stop('SIGKILL');
  });
  return child;
}

/** Starts the built CLI (or, with `command`, node on a fixture script) as a long-running child. */
export function spawnCli(
  args: readonly string[],
  options: SpawnOptions & { command?: readonly string[] } = {},
): Child {
  return spawnChild(process.execPath, options.command ?? [CLI, ...args], options);
}

/** Runs the built CLI to completion, with `input` on stdin (closed either way). */
export async function runCli(
  args: readonly string[],
  options: SpawnOptions & { input?: string | Buffer } = {},
): Promise<Ran> {
  return run(process.execPath, [CLI, ...args], options);
}

/** Runs `command args` to completion. */
export async function run(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { input?: string | Buffer } = {},
): Promise<Ran> {
  const child = spawnChild(command, args, options);
  child.process.stdin?.end(options.input ?? '');
  const code = await child.exited;
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

export interface ServeOptions {
  /** RELAY_HOME, and the working directory unless `cwd` says otherwise. */
  readonly home?: string;
  /** RELAY_SESSION_NAME. */
  readonly name?: string;
  /** Extra environment on top of `childEnv()`. */
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly args?: readonly string[];
  readonly clientName?: string;
  /** Whether to wait until its heartbeat is in the store (default yes; a full disk can delay the join). */
  readonly waitForJoin?: boolean;
}

/** Starts `claude-relay serve` and connects an SDK client to it (initialize included); killed after the test. */
export async function serve(options: ServeOptions = {}): Promise<Served> {
  const env = childEnv({
    ...(options.home === undefined ? {} : { RELAY_HOME: options.home }),
    ...(options.name === undefined ? {} : { RELAY_SESSION_NAME: options.name }),
    ...options.env,
  });
  const cwd = options.cwd ?? options.home ?? REPO;
  const served = await startStdio({
    args: [CLI, 'serve', ...(options.args ?? [])],
    env,
    cwd,
    ...(options.clientName === undefined ? {} : { clientName: options.clientName }),
  });
  defer(() => served.kill());
  if (options.waitForJoin !== false) await joined(served, env, cwd);
  return served;
}

/**
 * Resolves once the served session has joined (its heartbeat is in the store) or its process has ended:
 * `serve` answers `initialize` while its join is still being written, and a test that starts a session
 * means one the others can see.
 */
async function joined(served: Served, env: Record<string, string>, cwd: string): Promise<void> {
  const ctx = createContext({ config: loadConfig(env, cwd) });
  let ended = false;
  void served.exit.then(() => {
    ended = true;
  });
  await waitFor(
    `serve (pid ${served.pid}) to join`,
    async () => ended || (await listLiveSessions(ctx)).some((s) => s.pid === served.pid),
  );
}

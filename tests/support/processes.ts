import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

/**
 * Real OS processes for the multi-process and end-to-end tests: `claude-relay serve` behind an SDK client
 * over stdio, one-shot CLI runs, and fixture scripts. Children run the built JS in dist/ (`npm run build`
 * first). Everything started here is registered with a `Reaper`, which an afterEach empties, so no test
 * leaves a process behind whatever it fails on.
 */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(REPO, 'dist/src/cli/main.js');

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Only what a child needs; no RELAY_* variable of the developer's shell leaks into a test. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, RELAY_MACHINE_NAME: 'testhost', ...extra };
}

export interface ToolAnswer {
  readonly text: string;
  readonly isError: boolean;
}

/** One running `serve` and the MCP client connected to it. */
export class Served {
  private exited = false;
  /** Resolves once the process has exited and been reaped (its stdio closed). */
  readonly exit: Promise<void>;

  constructor(
    readonly client: Client,
    readonly pid: number,
    /** What the server wrote on stderr, from its start. */
    readonly stderr: string[],
  ) {
    this.exit = new Promise((resolve) => {
      client.onclose = () => {
        this.exited = true;
        resolve();
      };
    });
  }

  async call(tool: string, args: Record<string, unknown> = {}): Promise<ToolAnswer> {
    const result = await this.client.callTool({ name: tool, arguments: args });
    const content = result.content as { type: string; text?: string }[];
    return { text: content.map((c) => c.text ?? '').join('\n'), isError: result.isError === true };
  }

  /** A clean exit: closes stdin, as an MCP client does when its window closes. */
  async close(): Promise<void> {
    await this.client.close().catch(() => {});
    await this.exit;
  }

  /** Kills the process and waits until it is reaped, so its pid is no longer alive. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.exited) {
      try {
        process.kill(this.pid, signal);
      } catch {
        // already gone
      }
    }
    await this.exit;
  }
}

/** Kills whatever a test started and did not stop; call from afterEach. */
export class Reaper {
  private readonly served = new Set<Served>();
  private readonly children = new Set<ChildProcess>();
  private readonly dirs = new Set<string>();

  track<T extends Served | ChildProcess>(p: T): T {
    if (p instanceof Served) this.served.add(p);
    else this.children.add(p as ChildProcess);
    return p;
  }

  dir(d: string): string {
    this.dirs.add(d);
    return d;
  }

  async reap(): Promise<void> {
    for (const child of this.children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all([...this.served].map((s) => s.kill('SIGKILL')));
    await Promise.all(
      [...this.children].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) resolve();
            else c.once('exit', () => resolve());
          }),
      ),
    );
    this.served.clear();
    this.children.clear();
    for (const d of this.dirs) await fs.rm(d, { recursive: true, force: true });
    this.dirs.clear();
  }
}

export interface ServeOptions {
  readonly home: string;
  readonly name: string;
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

/** Starts `claude-relay serve` and connects an MCP client to it (initialize included). */
export async function serve(reaper: Reaper, options: ServeOptions): Promise<Served> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve'],
    env: baseEnv({ RELAY_HOME: options.home, RELAY_SESSION_NAME: options.name, ...options.env }),
    cwd: options.cwd ?? options.home,
    stderr: 'pipe',
  });
  const client = new Client({ name: 'relay-tests', version: '1.0.0' });
  const stderr: string[] = [];
  transport.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  try {
    await client.connect(transport);
  } catch (e) {
    await transport.close().catch(() => {});
    throw new Error(`serve ${options.name} did not start: ${String(e)}\n${stderr.join('')}`);
  }
  const pid = transport.pid;
  if (pid === null) throw new Error('serve did not start');
  return reaper.track(new Served(client, pid, stderr));
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one CLI command to its end. */
export function cli(
  reaper: Reaper,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  return run(reaper, process.execPath, [CLI, ...args], options);
}

export function run(
  reaper: Reaper,
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  const child = reaper.track(
    spawn(command, args, {
      env: baseEnv(options.env),
      cwd: options.cwd ?? REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Retries `probe` until it returns a value (not undefined), at most `tries` times: a bounded wait on an
 * event, never a fixed sleep. Throws with `what` when the event never came.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  tries = 500,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

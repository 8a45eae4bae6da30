import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { KeyRing } from '../../src/remote/keys.js';
import { Served } from './processes.js';

/**
 * Real processes and servers for the remote tests, all on 127.0.0.1 with ports the OS picked: relay servers
 * (`claude-relay relay`), `serve` processes behind an SDK client over stdio, private NATS servers. Children
 * run the built CLI in dist/ (`npm run build` first). Everything is registered with a `Lab`, which an
 * afterEach tears down (by pid), so a failing test leaves no process, directory, stream or bucket behind.
 */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(REPO, 'dist/src/cli/main.js');
export const NATS_URL = process.env.RELAY_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const NATS_SERVER = process.env.RELAY_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';

/** Only what a child needs: no RELAY_* variable of the developer's shell leaks into a test. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Retries `probe` until it returns something other than undefined, for at most `timeoutMs`: a bounded wait
 * on a condition, never a sleep that hopes something happened. Fails with `what` when it never came.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function uniquePrefix(): string {
  return `T${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`.toUpperCase();
}

// One `serve` behind its MCP client: the same class the multi-process tests use.
export { Served, type ToolAnswer } from './processes.js';

/** A child process with its output collected. */
export class Child {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<void>;

  constructor(readonly process: ChildProcess) {
    process.stdout?.on('data', (d: Buffer) => this.stdout.push(d.toString()));
    process.stderr?.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.exited = new Promise((resolve) => {
      if (process.exitCode !== null || process.signalCode !== null) resolve();
      else process.once('exit', () => resolve());
    });
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.running && this.process.pid !== undefined) {
      try {
        process.kill(this.process.pid, signal);
      } catch {
        // already gone
      }
    }
    await this.exited;
  }
}

export interface RelayProc {
  readonly url: string;
  readonly port: number;
  readonly child: Child;
  /** Every line the relay logged, for the "no key in any log line" checks. */
  log(): string;
}

export interface RelayStart {
  readonly data: string;
  readonly port?: number;
  readonly backend?: 'embedded' | 'nats';
  readonly natsUrl?: string;
  readonly natsPrefix?: string;
  readonly rateLimit?: number;
  readonly leaseSeconds?: number;
}

/** Everything one test started; `teardown()` stops it all, whatever the test failed on. */
export class Lab {
  private readonly children = new Set<Child>();
  private readonly served = new Set<Served>();
  private readonly dirs = new Set<string>();
  private readonly cleanups: (() => Promise<void>)[] = [];

  async dir(prefix = 'relay-remote-'): Promise<string> {
    const d = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    this.dirs.add(d);
    return d;
  }

  onTeardown(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  spawn(command: string, args: readonly string[], env: Record<string, string> = {}): Child {
    const child = new Child(
      spawn(command, args, { env: baseEnv(env), cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    this.children.add(child);
    return child;
  }

  /** Starts `claude-relay relay` and resolves once it printed the address it listens on. */
  async relay(options: RelayStart): Promise<RelayProc> {
    const args = [CLI, 'relay', '--port', String(options.port ?? 0), '--data', options.data];
    if (options.backend === 'nats') {
      args.push('--backend', 'nats', '--nats-url', options.natsUrl ?? NATS_URL);
      if (options.natsPrefix) args.push('--nats-prefix', options.natsPrefix);
    }
    if (options.rateLimit !== undefined) args.push('--rate-limit', String(options.rateLimit));
    if (options.leaseSeconds !== undefined) args.push('--lease-seconds', String(options.leaseSeconds));
    const child = this.spawn(process.execPath, args);
    const url = await waitFor('the relay to listen', () => {
      if (!child.running) throw new Error(`relay exited: ${child.stderr.join('')}`);
      return /listening on (http:\/\/\S+)/.exec(child.stdout.join(''))?.[1];
    });
    return { url, port: Number(new URL(url).port), child, log: () => child.stderr.join('') };
  }

  /** Starts `claude-relay serve` for one machine and connects an MCP client (initialize included). */
  async serve(options: {
    home: string;
    name: string;
    machine: string;
    url?: string;
    key?: string;
    env?: Record<string, string>;
  }): Promise<Served> {
    const env = baseEnv({
      RELAY_HOME: options.home,
      RELAY_SESSION_NAME: options.name,
      RELAY_MACHINE_NAME: options.machine,
      RELAY_REMOTE_RETRY_MAX_MS: '500',
      ...(options.url === undefined ? {} : { RELAY_REMOTE_URL: options.url }),
      ...(options.key === undefined ? {} : { RELAY_API_KEY: options.key }),
      ...options.env,
    });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'serve'],
      env,
      cwd: options.home,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'remote-tests', version: '1.0.0' });
    const stderr: string[] = [];
    transport.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    try {
      await client.connect(transport);
    } catch (e) {
      await transport.close().catch(() => {});
      throw new Error(`serve ${options.name} did not start: ${String(e)}\n${stderr.join('')}`);
    }
    if (transport.pid === null) throw new Error('serve did not start');
    const served = new Served(client, transport.pid, stderr);
    this.served.add(served);
    return served;
  }

  /** Runs one CLI command to its end. */
  async cli(
    args: readonly string[],
    env: Record<string, string> = {},
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = this.spawn(process.execPath, [CLI, ...args], env);
    const code = await new Promise<number | null>((resolve) =>
      child.process.once('close', (c) => resolve(c)),
    );
    return { code, stdout: child.stdout.join(''), stderr: child.stderr.join('') };
  }

  async teardown(): Promise<void> {
    await Promise.all([...this.served].map((s) => s.kill()));
    await Promise.all([...this.children].map((c) => c.stop('SIGKILL')));
    for (const fn of this.cleanups.reverse()) await fn().catch(() => {});
    for (const d of this.dirs) await fs.rm(d, { recursive: true, force: true });
    this.served.clear();
    this.children.clear();
    this.cleanups.length = 0;
    this.dirs.clear();
  }
}

/** Makes an API key for `machine` in a relay data directory, as `claude-relay relay keys add` does. */
export async function addKey(data: string, machine: string): Promise<string> {
  return (await KeyRing.inDataDir(data).add(machine)).key;
}

/** Polls through MCP until `count` messages came in (or fails after the bounded wait); returns their lines. */
export async function pollLines(served: Served, count: number, timeoutMs = 30_000): Promise<string[]> {
  const lines: string[] = [];
  await waitFor(
    `${count} message(s)`,
    async () => {
      const answer = await served.call('relay_poll');
      if (answer.isError) throw new Error(answer.text);
      lines.push(...answer.text.split('\n').filter((l) => l.startsWith('  [')));
      return lines.length >= count ? true : undefined;
    },
    timeoutMs,
  );
  return lines;
}

/** A private NATS server with JetStream on its own port and store, for tests that stop and start NATS. */
export class PrivateNats {
  private child: Child | undefined;

  private constructor(
    private readonly lab: Lab,
    readonly port: number,
    private readonly storeDir: string,
  ) {}

  static async start(lab: Lab): Promise<PrivateNats> {
    const nats = new PrivateNats(lab, await freePort(), await lab.dir('relay-nats-'));
    await nats.restart();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    const child = this.lab.spawn(NATS_SERVER, [
      '-js',
      '-a',
      '127.0.0.1',
      '-p',
      String(this.port),
      '-sd',
      this.storeDir,
    ]);
    this.child = child;
    await waitFor('NATS to be ready', () => {
      if (!child.running) throw new Error(`nats-server exited: ${child.stderr.join('')}`);
      return child.stderr.join('').includes('Server is ready') ? true : undefined;
    });
  }

  /** A clean shutdown (SIGTERM): JetStream writes its state out first. */
  async stop(): Promise<void> {
    await this.child?.stop('SIGTERM');
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach } from 'vitest';
import { z } from 'zod';
import type { SentEvent, SettledEvent } from '../../src/log/events.js';
import { loadConfig } from '../../src/relay/config.js';
import { RelaySession } from '../../src/relay/serve-session.js';

/**
 * Shared set-up for the delivery tests (tests/push): temp dirs removed after each test, the built CLI run as
 * real processes, SDK clients over real stdio, and bounded waits on a condition (never a sleep that
 * synchronises, never a timing assertion).
 */

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = path.join(REPO, 'dist/src/cli/main.js');
export const FIXTURES = path.join(REPO, 'tests/fixtures/hooks');

const cleanups: Array<() => Promise<void> | void> = [];

/** Runs `fn` after the current test, last registered first. */
export function defer(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

afterEach(async () => {
  const errors: unknown[] = [];
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors[0];
});

/** A fresh directory under the OS temp dir, removed after the test. */
export async function tempDir(prefix = 'relay-push-'): Promise<string> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
  defer(async () => {
    await fs.chmod(dir, 0o700).catch(() => {});
    await fs.rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** The environment of a child: this one's, minus every RELAY_* variable, plus `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('RELAY_')) env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI to completion, with `input` on stdin (closed either way). */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; input?: string | Buffer } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: options.env ?? childEnv(),
      cwd: options.cwd ?? REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** A long-running child (watch, a fixture parent), killed after the test; collects its output as it comes. */
export interface Spawned {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

export function spawnCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; command?: readonly string[] } = {},
): Spawned {
  const argv = options.command ?? [CLI, ...args];
  const child = spawn(process.execPath, [...argv], {
    env: options.env ?? childEnv(),
    cwd: options.cwd ?? REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  child.stdin?.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    child.once('close', (code) => resolve(code));
  });
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), until(5000).then(() => false)]);
      if (!killed) child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Resolves after `ms`; only as a bound on a wait, never to let something happen. */
function until(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Re-checks `condition` until it holds (returning its value) or `timeoutMs` passes (then fails with `what`).
 * The short pause between checks only spaces them out; the test waits on the condition, not on time.
 */
export async function waitFor<T>(
  condition: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await until(20);
  }
}

/** The notification a `claude/channel` push sends (the shape Claude Code reads). */
export const ChannelNotificationSchema = z.object({
  method: z.literal('notifications/claude/channel'),
  params: z.object({ content: z.string(), meta: z.record(z.string(), z.string()).optional() }),
});
export type ChannelNotification = z.infer<typeof ChannelNotificationSchema>;

export interface Served {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  /** Channel notifications received so far, in arrival order. */
  readonly pushes: ChannelNotification['params'][];
  /** Every message the server sent after initialize, as it came off the wire (also answers the client dropped). */
  readonly wire: JSONRPCMessage[];
  stderr(): string;
  close(): Promise<void>;
}

/** Starts `claude-relay serve` as a child over real stdio and connects an SDK client to it. */
export async function serve(options: {
  env: Record<string, string>;
  cwd?: string;
  args?: readonly string[];
  clientName?: string;
}): Promise<Served> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', ...(options.args ?? [])],
    env: options.env,
    cwd: options.cwd ?? REPO,
    stderr: 'pipe',
  });
  let err = '';
  (transport.stderr as NodeJS.ReadableStream | null)?.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const client = new Client({ name: options.clientName ?? 'push-tests', version: '1.0.0' });
  const pushes: ChannelNotification['params'][] = [];
  client.setNotificationHandler(ChannelNotificationSchema, (n) => {
    pushes.push(n.params);
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await client.close().catch(() => {});
    await transport.close().catch(() => {});
  };
  defer(close);
  await client.connect(transport);
  const wire: JSONRPCMessage[] = [];
  const deliver = transport.onmessage;
  transport.onmessage = (message) => {
    wire.push(message);
    deliver?.(message);
  };
  return { client, transport, pushes, wire, stderr: () => err, close };
}

/** The text of a tool result (the relay's tools answer with one text block). */
export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

/** The text of every tool answer the server sent, whether or not the client still wanted it. */
export function answersOnWire(served: Served): string[] {
  return served.wire.flatMap((m) => ('result' in m && 'content' in m.result ? [textOf(m.result)] : []));
}

/** Registers `name` in the store (it joined once and left), so that sends to it are accepted. */
export async function joinOnce(root: string, name: string): Promise<void> {
  const config = loadConfig({ RELAY_HOME: root, RELAY_SESSION_NAME: name }, root);
  const session = await RelaySession.start({ config });
  await session.stop();
}

/**
 * Every message ever sent to `to` (waiting or archived), in key order. A poll may move a file from the
 * inbox to the archive meanwhile: the inbox is read first, so a moving file is seen in one place or both.
 */
export async function sentTo(root: string, to: string): Promise<SentEvent[]> {
  const out = new Map<string, SentEvent>();
  for (const area of ['inbox', 'archive']) {
    const dir = path.join(root, area, to);
    for (const file of await fs.readdir(dir).catch(() => [] as string[])) {
      if (!file.endsWith('.json')) continue;
      const text = await fs.readFile(path.join(dir, file), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const event = JSON.parse(text) as SentEvent;
      out.set(event.key, event);
    }
  }
  return [...out.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** The outcome recorded for each settled message of `to`, by key. */
export async function settledOf(root: string, to: string): Promise<Map<string, SettledEvent>> {
  const dir = path.join(root, 'settled', to);
  const out = new Map<string, SettledEvent>();
  for (const file of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!file.endsWith('.json')) continue;
    const event = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as SettledEvent;
    out.set(event.key, event);
  }
  return out;
}

/** The `#id` a `claude-relay send` printed (`sent #abc123 to api`). */
export function sentId(stdout: string): string {
  const m = /#([a-z0-9]{6}) /.exec(stdout);
  if (!m?.[1]) throw new Error(`no message id in ${JSON.stringify(stdout)}`);
  return m[1];
}

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { track, untrack } from './children.js';

/** The built CLI and the minimal comparison server, next to this file in dist/. */
export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
export const MINIMAL_SERVER = fileURLToPath(new URL('./fixtures/minimal-server.js', import.meta.url));

/** A running stdio MCP server with a connected client. */
export interface Served {
  readonly client: Client;
  readonly pid: number;
  /** What the server wrote to stderr, for error messages. */
  readonly stderr: () => string;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

/** Spawns `node <args>` and connects an MCP client over its stdio (spawn + initialize). */
export async function startStdio(options: StartOptions): Promise<Served> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...options.args],
    env: options.env ?? {},
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 20_000) stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'claude-relay-bench', version: '1' });
  try {
    await client.connect(transport);
  } catch (e) {
    await client.close().catch(() => {});
    throw new Error(`could not start node ${options.args.join(' ')}: ${String(e)}\n${stderr}`);
  }
  const pid = transport.pid;
  if (pid === null) throw new Error(`node ${options.args.join(' ')} has no pid after connecting`);
  track(pid);
  return {
    client,
    pid,
    stderr: () => stderr,
    // The SDK's close ends stdin, then escalates to SIGTERM and SIGKILL; serve leaves the relay on EOF.
    async close() {
      await client.close();
      untrack(pid);
    },
  };
}

export interface ServeOptions {
  readonly store: string;
  readonly name: string;
  readonly cwd?: string;
  readonly home?: string;
  readonly env?: Record<string, string>;
}

export function serveEnv(options: ServeOptions): Record<string, string> {
  return {
    RELAY_HOME: options.store,
    RELAY_SESSION_NAME: options.name,
    ...(options.home === undefined ? {} : { HOME: options.home }),
    ...options.env,
  };
}

/** Starts the real `claude-relay serve` from dist/, connected over stdio. */
export function startServe(options: ServeOptions): Promise<Served> {
  return startStdio({
    args: [CLI, 'serve'],
    env: serveEnv(options),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
}

export interface Answer {
  readonly text: string;
  readonly isError: boolean;
}

/** Calls a tool and returns its text as the model reads it (the text blocks, joined). */
export async function call(
  served: Served,
  tool: string,
  args: Record<string, unknown> = {},
): Promise<Answer> {
  const result = await served.client.callTool({ name: tool, arguments: args });
  const content = Array.isArray(result.content) ? result.content : [];
  const text = content
    .map((block: { type?: string; text?: string }) => (block.type === 'text' ? (block.text ?? '') : ''))
    .join('\n');
  return { text, isError: result.isError === true };
}

/** Like `call`, but a tool error is a bench failure. */
export async function callOk(
  served: Served,
  tool: string,
  args: Record<string, unknown> = {},
): Promise<string> {
  const answer = await call(served, tool, args);
  if (answer.isError) throw new Error(`${tool} failed: ${answer.text}`);
  return answer.text;
}

/** Peak resident set size of a live process in MiB, from Linux's /proc (VmHWM, in KiB); undefined elsewhere. */
export async function peakRssMib(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kb = status?.match(/^VmHWM:\s+(\d+)\s+kB/m)?.[1];
  return kb === undefined ? undefined : Number(kb) / 1024;
}

/**
 * Promise.all that first waits for every start to settle: nothing is still starting when the caller's
 * `finally` closes what started, so no server outlives a failed run.
 */
export async function allStarted<T extends readonly unknown[] | []>(
  starting: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  await Promise.allSettled(starting);
  return Promise.all(starting);
}

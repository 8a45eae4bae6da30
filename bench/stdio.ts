import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CLI } from '../tests/support/paths.js';
import {
  type Served as StdioServed,
  startStdio as startChild,
  type ToolAnswer,
} from '../tests/support/stdio.js';
import { track, untrack } from './children.js';

/** The built CLI, and the minimal comparison server next to this file in build/. */
export { CLI };
export const MINIMAL_SERVER = fileURLToPath(new URL('./fixtures/minimal-server.js', import.meta.url));

/** A running stdio MCP server with a connected client (the tests' harness), its pid tracked until closed. */
export type Served = StdioServed;
export type Answer = ToolAnswer;

export interface StartOptions {
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

/** Spawns `node <args>` and connects an MCP client over its stdio (spawn + initialize). */
export async function startStdio(options: StartOptions): Promise<Served> {
  const served = await startChild({
    args: options.args,
    env: options.env ?? {},
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    clientName: 'claude-relay-bench',
  });
  track(served.pid);
  // The SDK's close ends stdin, then escalates to SIGTERM and SIGKILL; serve leaves the relay on EOF.
  void served.exit.then(() => untrack(served.pid));
  return served;
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

/** Calls a tool and returns its text as the model reads it (the text blocks, joined). */
export function call(served: Served, tool: string, args: Record<string, unknown> = {}): Promise<Answer> {
  return served.call(tool, args);
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

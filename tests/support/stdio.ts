import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * A stdio MCP server as a child process behind an SDK client: what the tests and the bench talk to. Nothing
 * here registers a cleanup (the bench imports it outside vitest); `processes.ts` does for the tests.
 */

/** The notification a `claude/channel` push sends (the shape Claude Code reads). */
export const ChannelNotificationSchema = z.object({
  method: z.literal('notifications/claude/channel'),
  params: z.object({ content: z.string(), meta: z.record(z.string(), z.string()).optional() }),
});
export type ChannelNotification = z.infer<typeof ChannelNotificationSchema>;

export interface ToolAnswer {
  readonly text: string;
  readonly isError: boolean;
}

/** The text of a tool result (the relay's tools answer with text blocks; joined by newlines). */
export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type?: string; text?: string }> }).content ?? [];
  return content.map((c) => (c.type === 'text' ? (c.text ?? '') : '')).join('\n');
}

/** The text of every tool answer a server sent, whether or not the client still wanted it. */
export function answersOnWire(wire: readonly JSONRPCMessage[]): string[] {
  return wire.flatMap((m) => ('result' in m && 'content' in m.result ? [textOf(m.result)] : []));
}

/** One running server and the MCP client connected to it. */
export class Served {
  private exited = false;
  /** Resolves once the process has exited and been reaped (its stdio closed). */
  readonly exit: Promise<void>;
  /** Channel notifications received so far, in arrival order. */
  readonly pushes: ChannelNotification['params'][] = [];
  /** Every message the server sent after initialize, as it came off the wire (also answers the client dropped). */
  readonly wire: JSONRPCMessage[] = [];

  constructor(
    readonly client: Client,
    readonly transport: StdioClientTransport,
    readonly pid: number,
    private readonly err: () => string,
  ) {
    this.exit = new Promise((resolve) => {
      client.onclose = () => {
        this.exited = true;
        resolve();
      };
    });
  }

  /** What the server wrote on stderr, from its start. */
  stderr(): string {
    return this.err();
  }

  async call(tool: string, args: Record<string, unknown> = {}): Promise<ToolAnswer> {
    const result = await this.client.callTool({ name: tool, arguments: args });
    return { text: textOf(result), isError: result.isError === true };
  }

  /** A clean exit: closes stdin, as an MCP client does when its window closes (the SDK escalates to signals). */
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
    await this.client.close().catch(() => {});
  }
}

export interface StdioOptions {
  /** Arguments to node (a script first). */
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd?: string;
  /** The client's name in initialize (it chooses the push mode: `claude-code` gets pushes). */
  readonly clientName?: string;
}

/** Spawns `node <args>` and connects an SDK client over its stdio (spawn + initialize). */
export async function startStdio(options: StdioOptions): Promise<Served> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...options.args],
    env: options.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const client = new Client({ name: options.clientName ?? 'relay-tests', version: '1.0.0' });
  const pushes: ChannelNotification['params'][] = [];
  client.setNotificationHandler(ChannelNotificationSchema, (n) => {
    pushes.push(n.params);
  });
  try {
    await client.connect(transport);
  } catch (e) {
    await transport.close().catch(() => {});
    throw new Error(`node ${options.args.join(' ')} did not start: ${String(e)}\n${err}`);
  }
  const pid = transport.pid;
  if (pid === null) throw new Error(`node ${options.args.join(' ')} has no pid after connecting`);
  const served = new Served(client, transport, pid, () => err);
  served.pushes.push(...pushes.splice(0));
  client.setNotificationHandler(ChannelNotificationSchema, (n) => {
    served.pushes.push(n.params);
  });
  const deliver = transport.onmessage;
  transport.onmessage = (message) => {
    served.wire.push(message);
    deliver?.(message);
  };
  return served;
}

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { PushMode } from '../../src/mcp/push.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { loadConfig, type RelayConfig } from '../../src/relay/config.js';
import { RelaySession } from '../../src/relay/serve-session.js';
import { defer, tempDir } from './cleanup.js';
import { type ChannelNotification, ChannelNotificationSchema } from './stdio.js';

/**
 * The MCP server wired as `serve` wires it, in this process: a joined session on a real temp store and an
 * SDK client over `InMemoryTransport.createLinkedPair()`. Both are stopped after the test.
 */

export interface Joined {
  readonly root: string;
  readonly config: RelayConfig;
  readonly session: RelaySession;
}

/** Joins `name` on `root` (a fresh temp store when left out) as a serve would; stopped after the test. */
export async function joinedSession(name = 'api', root?: string): Promise<Joined> {
  const home = root ?? (await tempDir());
  const config = loadConfig({ RELAY_HOME: home, RELAY_SESSION_NAME: name }, home);
  const session = await RelaySession.start({ config });
  defer(() => session.stop());
  return { root: home, config, session };
}

export interface Linked {
  readonly server: McpServer;
  readonly client: Client;
  /** Every message the server sent after initialize (also answers the client dropped). */
  readonly wire: JSONRPCMessage[];
  /** Channel notifications received so far, in arrival order. */
  readonly pushes: ChannelNotification['params'][];
}

/** Connects an SDK client to `createMcpServer(session)` over an in-memory linked pair. */
export async function linkInMemory(
  session: RelaySession,
  options: { push?: PushMode; clientName?: string } = {},
): Promise<Linked> {
  const server = createMcpServer(session, 'test', options.push ?? 'off');
  const client = new Client({ name: options.clientName ?? 'relay-tests', version: '1.0.0' });
  const pushes: ChannelNotification['params'][] = [];
  client.setNotificationHandler(ChannelNotificationSchema, (n) => {
    pushes.push(n.params);
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.connect(clientSide);
  defer(async () => {
    await client.close();
    await server.close();
  });
  const wire: JSONRPCMessage[] = [];
  const deliver = clientSide.onmessage;
  clientSide.onmessage = (m, extra) => {
    wire.push(m);
    deliver?.(m, extra);
  };
  return { server, client, wire, pushes };
}

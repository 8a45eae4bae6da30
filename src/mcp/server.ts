import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RelaySession } from '../relay/session.js';
import { formatRenamed } from './format.js';
import { Notices } from './notices.js';
import { registerBroadcastTool } from './tools/broadcast.js';
import { registerPollTool } from './tools/poll.js';
import { registerSendTool } from './tools/send.js';
import { registerSessionsTool } from './tools/sessions.js';

export const SERVER_NAME = 'claude-relay';

/** Wires the four tools to one joined session; the tools hold no state of their own. */
export function createMcpServer(session: RelaySession, version: string): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version });
  const notices = new Notices(
    session.renamedFrom === undefined ? [] : [formatRenamed(session.name, session.renamedFrom)],
  );
  registerSendTool(server, session);
  registerPollTool(server, session, notices);
  registerBroadcastTool(server, session);
  registerSessionsTool(server, session, notices);
  return server;
}

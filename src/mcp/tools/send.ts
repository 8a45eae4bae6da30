import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import type { RelaySession } from '../../relay/serve-session.js';
import { formatRemoteSent, formatSent } from '../format.js';
import type { ToolSpec } from '../tool-list.js';
import { text } from './text.js';

const TYPE = 'request | info (default) | response';

export const sendTool = {
  name: 'relay_send',
  description: 'Send a message to another session. Returns its id.',
  inputSchema: {
    to: z.string().describe('Session name (see relay_sessions), or machine:name'),
    message: z.string(),
    type: z.string().optional().describe(TYPE),
    reply_to: z.string().optional().describe('Id of the message this answers'),
  },
} satisfies ToolSpec;

export const broadcastTypeDescription = TYPE;

export function registerSendTool(server: McpServer, session: RelaySession): void {
  server.registerTool(
    sendTool.name,
    { description: sendTool.description, inputSchema: sendTool.inputSchema },
    async ({ to, message, type, reply_to }) => {
      const { event, live, remote, notJoined } = await session.send({
        to,
        message,
        type,
        replyTo: reply_to,
      });
      return text(remote ? formatRemoteSent(event, remote) : formatSent(event, live, notJoined));
    },
  );
}

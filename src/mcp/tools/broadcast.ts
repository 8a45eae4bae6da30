import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import type { RelaySession } from '../../relay/serve-session.js';
import { formatBroadcast } from '../format.js';
import type { ToolSpec } from '../tool-list.js';
import { broadcastTypeDescription } from './send.js';
import { text } from './text.js';

export const broadcastTool = {
  name: 'relay_broadcast',
  description: 'Send a message to every other live session.',
  inputSchema: {
    message: z.string(),
    type: z.string().optional().describe(broadcastTypeDescription),
  },
} satisfies ToolSpec;

export function registerBroadcastTool(server: McpServer, session: RelaySession): void {
  server.registerTool(
    broadcastTool.name,
    { description: broadcastTool.description, inputSchema: broadcastTool.inputSchema },
    async ({ message, type }) => {
      const sent = formatBroadcast(await session.broadcast({ message, type }));
      // Other machines are reached through the relay; when it cannot be asked, say only this one was.
      const cut =
        session.remote?.problem === undefined ? '' : '\nRelay unreachable: other machines not reached.';
      return text(`${sent}${cut}`);
    },
  );
}

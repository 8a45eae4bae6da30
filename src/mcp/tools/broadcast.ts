import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { RelaySession } from '../../relay/session.js';
import { formatBroadcast } from '../format.js';
import { text } from './text.js';

export function registerBroadcastTool(server: McpServer, session: RelaySession): void {
  server.registerTool(
    'relay_broadcast',
    {
      description: 'Send a message to every other live session.',
      inputSchema: {
        message: z.string(),
        type: z.string().optional().describe('request | info (default) | response'),
      },
    },
    async ({ message, type }) => text(formatBroadcast(await session.broadcast({ message, type }))),
  );
}

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RelaySession } from '../../relay/serve-session.js';
import { formatSessions } from '../format.js';
import type { Notices } from '../notices.js';
import type { ToolSpec } from '../tool-list.js';
import { text } from './text.js';

export const sessionsTool = {
  name: 'relay_sessions',
  description: 'List the live sessions.',
  inputSchema: {},
} satisfies ToolSpec;

export const UNREACHABLE = 'Relay unreachable: sessions of other machines are not listed.';

export function registerSessionsTool(server: McpServer, session: RelaySession, notices: Notices): void {
  server.registerTool(sessionsTool.name, { description: sessionsTool.description }, async () => {
    // Sessions of other machines (through the remote relay, if any) follow as `machine:name`.
    const others = await session.remoteSessions();
    const remote = (others ?? []).map((s) => ({
      ...s,
      name: `${s.machine}:${s.name}`,
    }));
    const sessions = [...(await session.sessions()), ...remote];
    const listed = formatSessions(sessions, session.name, session.ctx.clock.wall());
    // Not silently partial: without this line a model would take "this machine only" for "everyone".
    const unreachable = session.remote && others === undefined ? `\n${UNREACHABLE}` : '';
    return text(notices.prefix(`${listed}${unreachable}`));
  });
}

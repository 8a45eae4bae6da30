import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer } from '../../mcp/server.js';
import { loadConfig } from '../../relay/config.js';
import { RelaySession } from '../../relay/session.js';
import { packageVersion } from '../../version.js';
import { logError, logProblem } from '../log.js';

/** `claude-relay serve`: joins the relay and answers MCP over stdio until the client closes stdin. */
export async function run(): Promise<number> {
  const config = loadConfig();
  const session = await RelaySession.start({ config, onProblem: logProblem, onError: logError });
  const server = createMcpServer(session, packageVersion());
  server.server.oninitialized = () => {
    const client = server.server.getClientVersion();
    if (client?.name) void session.setClient(`${client.name} ${client.version ?? ''}`.trim());
  };
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    const done = () => resolve();
    transport.onclose = done;
    process.stdin.once('end', done);
    process.stdin.once('close', done);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    process.once('SIGHUP', done);
  });
  await server.connect(transport);
  await closed;
  await session.stop();
  await server.close().catch(() => {});
  return 0;
}

import { FlushedStdioTransport } from '../../mcp/answered.js';
import { ChannelPush, choosePush, pushModeFromEnv } from '../../mcp/push.js';
import { createMcpServer } from '../../mcp/server.js';
import { loadConfig } from '../../relay/config.js';
import { ancestorsOf } from '../../relay/process-tree.js';
import { RelaySession } from '../../relay/serve-session.js';
import { packageVersion } from '../../version.js';
import { logError, logProblem } from '../log.js';

/** `claude-relay serve`: joins the relay and answers MCP over stdio until the client closes stdin. */
export async function run(options: { push?: string } = {}): Promise<number> {
  const env = options.push === undefined ? process.env : { ...process.env, RELAY_PUSH: options.push };
  const configured = pushModeFromEnv(env);
  const config = loadConfig();
  const session = await RelaySession.start({
    config,
    onProblem: logProblem,
    onError: logError,
    ancestors: ancestorsOf(process.pid),
  });
  const server = createMcpServer(session, packageVersion(), configured, logError);
  let push: ChannelPush | undefined;
  // Posted into the client's own inbox from the start (mail waiting now needs no `initialize`); loaded only then.
  const native =
    configured === 'native'
      ? import('../../mcp/native.js').then((m) => m.startNative(session, logError))
      : undefined;
  server.server.oninitialized = () => {
    const client = server.server.getClientVersion();
    if (client?.name) void session.setClient(`${client.name} ${client.version ?? ''}`.trim());
    const mode = choosePush(configured, client?.name);
    if (mode === 'off' || mode === 'native') return;
    push = new ChannelPush(server, session, mode, logError);
    void push.start().catch(logError);
  };
  const transport = new FlushedStdioTransport();
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
  push?.stop();
  (await native)?.stop();
  await session.stop();
  await server.close().catch(() => {});
  return 0;
}

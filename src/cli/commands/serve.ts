import type { ChannelPush } from '../../mcp/push.js';
import { loadConfig } from '../../relay/config.js';
import { ancestorsOf } from '../../relay/process-tree.js';
import { RelaySession } from '../../relay/serve-session.js';
import { packageVersion } from '../../version.js';
import { reportFailure } from '../failure.js';
import { logError, logProblem } from '../log.js';

/** `claude-relay serve`: joins the relay and answers MCP over stdio until the client closes stdin. */
export async function run(options: { push?: string } = {}): Promise<number> {
  const config = loadConfig();
  // Joining runs while the server answers `initialize` and `tools/list`; tool calls wait for it.
  const session = RelaySession.begin({
    config,
    onProblem: logProblem,
    onError: logError,
    ancestors: ancestorsOf(process.pid),
  });
  // The MCP SDK loads while the join's fsyncs run.
  const [{ FlushedStdioTransport }, { ChannelPush, choosePush, pushModeFromEnv }, { createMcpServer }] =
    await Promise.all([
      import('../../mcp/answered.js'),
      import('../../mcp/push.js'),
      import('../../mcp/server.js'),
    ]);
  const env = options.push === undefined ? process.env : { ...process.env, RELAY_PUSH: options.push };
  let configured: ReturnType<typeof pushModeFromEnv>;
  try {
    configured = pushModeFromEnv(env);
  } catch (e) {
    // A bad RELAY_PUSH ends the start; the session that began joining leaves again.
    await session.stop();
    throw e;
  }
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
    const started = push;
    void session.ready.then(() => started.start()).catch(logError);
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
  // A join that fails (say, a store that cannot be written) ends the server as a failed start did, also
  // when the client has already gone.
  const failure = session.ready.then(
    () => undefined,
    (e: unknown) => e ?? new Error('the join failed'),
  );
  const failed = await Promise.race([failure, closed.then(() => failure)]);
  if (failed !== undefined) {
    await server.close().catch(() => {});
    return reportFailure(failed);
  }
  await closed;
  push?.stop();
  (await native)?.stop();
  await session.stop();
  await server.close().catch(() => {});
  return 0;
}

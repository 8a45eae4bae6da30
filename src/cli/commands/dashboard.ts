import { spawn } from 'node:child_process';
import { DashboardFeed } from '../../dashboard/feed.js';
import { startDashboardServer } from '../../dashboard/server.js';
import { newToken } from '../../dashboard/token.js';
import { RelayError } from '../../errors.js';
import type { Problem } from '../../log/store.js';
import { loadConfig } from '../../relay/config.js';
import { sendMessage } from '../../relay/send.js';
import { createContext } from '../../relay/serve-session.js';
import { logProblem } from '../log.js';

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RelayError(
      'bad_input',
      `Expected --port to be a port number 0-65535 (0: any free one), got "${raw.slice(0, 20)}".`,
    );
  return port;
}

/** The platform's own way to open a URL; a failure only means the person opens it by hand. */
function openInBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write(`claude-relay: could not start a browser; open ${url}\n`));
  child.unref();
}

/**
 * `claude-relay dashboard`: a live page of this store for a person, on 127.0.0.1 only, behind a token
 * printed once. It reads the store and never takes a message; compose sends as `user`, as `send` does.
 */
export async function run(options: { port: string; open?: boolean }): Promise<number> {
  const port = parsePort(options.port);
  const config = loadConfig();
  const problems: Problem[] = [];
  const ctx = createContext({
    config,
    name: 'user',
    onProblem: (p) => {
      problems.push(p);
      logProblem(p);
    },
  });
  const feed = new DashboardFeed({ ctx, problems });
  await feed.start();
  const token = newToken();
  const { server, url } = await startDashboardServer({
    port,
    token,
    feed,
    send: async (input) => {
      const { event, live } = await sendMessage(ctx, input);
      return { id: event.id, to: event.to, live };
    },
  }).catch((e: unknown) => {
    feed.close();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new RelayError(
        'bad_input',
        `Port ${port} is in use; pick another with --port (0: any free one).`,
      );
    throw e;
  });
  process.stdout.write(`${url}\n`);
  process.stderr.write(`dashboard of ${ctx.store.root} on 127.0.0.1 only; Ctrl-C to stop\n`);
  if (options.open) openInBrowser(url);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve());
  });
  feed.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return 0;
}

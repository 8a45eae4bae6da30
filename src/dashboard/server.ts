import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRelayError } from '../errors.js';
import { filterMessages, MESSAGE_STATES } from '../projections/dashboard.js';
import type { DashboardView } from '../relay/dashboard.js';
import type { DashboardFeed } from './feed.js';
import { PAGE_CSS, PAGE_HTML } from './page.js';
import { hasToken, isOwnHost } from './token.js';

export interface ComposeInput {
  readonly to: string;
  readonly message: string;
  readonly type?: string;
  readonly replyTo?: string;
}

export interface DashboardServerOptions {
  readonly port: number;
  readonly token: string;
  readonly feed: DashboardFeed;
  /** Sends as the person at the dashboard; resolves what the page says back. */
  readonly send: (input: ComposeInput) => Promise<{ id: string; to: string; live: boolean }>;
}

const SECURITY_HEADERS = {
  // No cookie is ever set; the token travels in the URL, so it must not leave in a Referer either.
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

const UNAUTHORIZED =
  'This dashboard needs its token: open the URL that `claude-relay dashboard` printed (it ends in ?t=…).\n';
const MAX_COMPOSE_BYTES = 1_100_000;

/** The page script, inlined by the bundler (scripts/bundle.mjs); unbundled, compiled next to this module. */
declare const RELAY_PAGE_SCRIPT: string | undefined;

const clientJs = (() => {
  let text: string | undefined;
  return () => {
    text ??=
      typeof RELAY_PAGE_SCRIPT === 'string'
        ? RELAY_PAGE_SCRIPT
        : readFileSync(new URL('./page/app.js', import.meta.url), 'utf8');
    return text;
  };
})();

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_COMPOSE_BYTES) throw new Error('The message is larger than 1 MB; send a shorter one.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The JSON endpoints: the page's data, and the same for scripts. */
function api(view: DashboardView, route: string, url: URL): unknown {
  switch (route) {
    case '/api/view':
      return view;
    case '/api/sessions':
      return { now: view.now, error: view.error, machines: view.machines, remote: view.remote };
    case '/api/traffic':
      return { now: view.now, error: view.error, traffic: view.traffic };
    case '/api/outbox':
      return {
        now: view.now,
        error: view.error,
        outbox: view.outbox,
        counts: view.outboxCounts,
        quarantined: view.quarantined,
      };
    case '/api/messages': {
      const state = url.searchParams.get('state') ?? undefined;
      if (state !== undefined && !(MESSAGE_STATES as readonly string[]).includes(state))
        return {
          error: `Expected state to be one of ${MESSAGE_STATES.join(', ')}, got "${state.slice(0, 20)}".`,
        };
      const session = url.searchParams.get('session') ?? undefined;
      return {
        now: view.now,
        error: view.error,
        messages: filterMessages(view.messages ?? [], { session, state }),
      };
    }
    default:
      return undefined;
  }
}

function events(req: IncomingMessage, res: ServerResponse, feed: DashboardFeed): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
  const push = (view: DashboardView) => res.write(`event: view\ndata: ${JSON.stringify(view)}\n\n`);
  if (feed.view) push(feed.view);
  const unsubscribe = feed.subscribe(push);
  // A comment now and then keeps proxies and the browser from closing an idle stream.
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(ping);
    unsubscribe();
  });
}

async function compose(req: IncomingMessage, res: ServerResponse, options: DashboardServerOptions) {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
    return json(res, 415, { error: 'Send the message as JSON (Content-Type: application/json).' });
  let input: ComposeInput;
  try {
    const parsed = JSON.parse(await readBody(req)) as Partial<ComposeInput>;
    if (typeof parsed.to !== 'string' || typeof parsed.message !== 'string' || parsed.message === '')
      return json(res, 400, { error: 'Give `to` (a session name) and a non-empty `message`.' });
    input = parsed as ComposeInput;
  } catch (e) {
    return json(res, 400, { error: e instanceof SyntaxError ? 'The request body is not JSON.' : String(e) });
  }
  try {
    const sent = await options.send(input);
    options.feed.wake();
    return json(res, 200, sent);
  } catch (e) {
    if (isRelayError(e)) return json(res, 400, { error: e.message });
    throw e;
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: DashboardServerOptions,
  port: number,
) {
  const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
  if (!isOwnHost(req, port))
    return send(res, 421, 'text/plain; charset=utf-8', 'Use http://127.0.0.1 for this dashboard.\n');
  if (!hasToken(req, url, options.token)) return send(res, 401, 'text/plain; charset=utf-8', UNAUTHORIZED);
  const route = url.pathname;
  if (req.method === 'POST' && route === '/api/send') return compose(req, res, options);
  if (req.method !== 'GET') return json(res, 405, { error: `${req.method} is not served here; use GET.` });
  if (route === '/')
    return send(res, 200, 'text/html; charset=utf-8', PAGE_HTML.replaceAll('__TOKEN__', options.token));
  if (route === '/app.css') return send(res, 200, 'text/css; charset=utf-8', PAGE_CSS);
  if (route === '/app.js') return send(res, 200, 'text/javascript; charset=utf-8', clientJs());
  if (route === '/api/events') return events(req, res, options.feed);
  if (!options.feed.view) await options.feed.refresh();
  const view = options.feed.view as DashboardView;
  const answer = api(view, route, url);
  if (answer === undefined)
    return json(res, 404, { error: `Nothing at ${route}; the JSON endpoints are under /api/.` });
  return json(res, 200, answer);
}

/** Listens on 127.0.0.1 only. Resolves once listening, with the port it got (0 asks for any free one). */
export async function startDashboardServer(
  options: DashboardServerOptions,
): Promise<{ server: Server; port: number; url: string }> {
  let port = options.port;
  const server = createServer((req, res) => {
    handle(req, res, options, port).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { error: e instanceof Error ? e.message : String(e) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return { server, port, url: `http://127.0.0.1:${port}/?t=${options.token}` };
}

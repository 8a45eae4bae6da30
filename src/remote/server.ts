import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRelayError } from '../errors.js';
import type { Backend } from './backend.js';
import { storedOf } from './convert.js';
import { checkNames, type Endpoint, endpointOf } from './endpoints.js';
import { badKey, HttpError, isHttpError } from './errors.js';
import { parseBody, readBody, refuseUnparsed, sendError, sendJson } from './http.js';
import { fingerprint, type KeyRecord, type KeyStore } from './keys.js';
import {
  AckBodySchema,
  type Health,
  HeartbeatBodySchema,
  MAX_MESSAGE_BYTES,
  MAX_SEND_REQUEST,
  MAX_SMALL_REQUEST,
  PollBodySchema,
  type SendAnswer,
  SendBodySchema,
} from './protocol.js';
import { type RateLimit, RateLimiter } from './rate.js';
import { WaitingRequests } from './revocation.js';

export interface RelayServerOptions {
  readonly backend: Backend;
  readonly keys: KeyStore;
  readonly version: string;
  /** Requests a minute allowed per API key. */
  readonly rateLimit: number;
  /** Shared by several relays (NATS); by default each relay counts in memory. */
  readonly rate?: RateLimit;
  /** Other machines' sessions are listed without their working directory and pid. */
  readonly hideDetails?: boolean;
  /** One line per request and per failure; never given a header, so never a key. */
  readonly log?: (line: string) => void;
}

const DEFAULT_POLL_MAX = 10;

function ownMachine(key: KeyRecord, machine: string, doing: string): void {
  if (key.machine !== machine) {
    throw new HttpError(
      403,
      'wrong_machine',
      `This API key belongs to machine "${key.machine}"; it cannot ${doing} for "${machine}" (set RELAY_MACHINE_NAME to the key's machine, or make a key for "${machine}").`,
    );
  }
}

/**
 * `claude-relay relay`: the HTTP relay. Every request body is parsed with zod at the edge; the order of
 * checks is route (404/405), key (401), rate (429), names (400), machine (403), body (415/413/400).
 */
export class RelayServer {
  private readonly options: RelayServerOptions;
  private readonly server: Server;
  private readonly rate: RateLimit;
  private readonly waiting: WaitingRequests;
  private readonly log: (line: string) => void;
  private readonly inFlight = new Set<AbortController>();

  private constructor(options: RelayServerOptions) {
    this.options = options;
    this.rate = options.rate ?? new RateLimiter(options.rateLimit);
    this.waiting = new WaitingRequests(options.keys);
    this.log = options.log ?? (() => {});
    this.server = createServer((req, res) => void this.handle(req, res));
    // A long-poll holds a request open for up to 30 s; the defaults would cut it or keep dead sockets.
    this.server.requestTimeout = 120_000;
    this.server.headersTimeout = 30_000;
    this.server.on('clientError', refuseUnparsed);
  }

  static async listen(options: RelayServerOptions, port: number, host = '127.0.0.1'): Promise<RelayServer> {
    const relay = new RelayServer(options);
    await new Promise<void>((resolve, reject) => {
      relay.server.once('error', reject);
      relay.server.listen(port, host, () => {
        relay.server.off('error', reject);
        resolve();
      });
    });
    return relay;
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  get url(): string {
    const a = this.address;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  /** How many requests wait right now (long-polls). */
  get waitingRequests(): number {
    return this.waiting.size;
  }

  /** Stops accepting, ends waiting polls, closes connections, then the backend. */
  async close(): Promise<void> {
    this.waiting.close();
    for (const c of this.inFlight) c.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    setTimeout(() => this.server.closeAllConnections(), 2000).unref();
    await closed;
    await this.options.backend.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const controller = new AbortController();
    this.inFlight.add(controller);
    res.on('close', () => {
      this.inFlight.delete(controller);
      if (!res.writableFinished) controller.abort();
    });
    let machine = '-';
    try {
      const r = endpointOf(req.method, req.url ?? '/');
      if (r.kind === 'health') return await this.health(res);
      const presented = bearerOf(req) ?? '';
      const key = await this.authenticate(presented);
      machine = key.machine;
      const wait = await this.rate.take(fingerprint(key));
      if (wait > 0) {
        throw new HttpError(
          429,
          'rate_limited',
          `Rate limit: ${this.options.rateLimit} requests a minute per API key; wait ${wait}s and retry.`,
          { retryAfter: wait },
        );
      }
      checkNames(r);
      await this.dispatch(r, key, req, res, { presented, controller });
    } catch (e) {
      this.fail(req, res, e);
    } finally {
      const shown = JSON.stringify((req.url ?? '').slice(0, 160));
      this.log(`${req.method} ${shown} ${res.statusCode} machine=${machine} ${Date.now() - started}ms`);
    }
  }

  private async authenticate(presented: string): Promise<KeyRecord> {
    if (!presented) {
      throw new HttpError(
        401,
        'no_key',
        'Send an API key as "Authorization: Bearer <key>" (the relay operator makes one with claude-relay relay keys add <machine>).',
      );
    }
    const record = await this.options.keys.lookup(presented);
    if (!record) throw badKey();
    return record;
  }

  private async dispatch(
    r: Endpoint,
    key: KeyRecord,
    req: IncomingMessage,
    res: ServerResponse,
    request: { presented: string; controller: AbortController },
  ): Promise<void> {
    const backend = this.options.backend;
    switch (r.kind) {
      case 'health':
        return;
      case 'sessions': {
        const sessions = await backend.sessions();
        if (!this.options.hideDetails) return sendJson(res, 200, { sessions });
        const shown = sessions.map((s) => (s.machine === key.machine ? s : { ...s, cwd: '', pid: 0 }));
        return sendJson(res, 200, { sessions: shown });
      }
      case 'heartbeat': {
        ownMachine(key, r.machine, 'heartbeat');
        const beat = parseBody(await readBody(req, MAX_SMALL_REQUEST), HeartbeatBodySchema);
        await backend.heartbeat(r.machine, r.name, beat);
        return sendJson(res, 204, undefined);
      }
      case 'leave':
        ownMachine(key, r.machine, 'end a session');
        await backend.leave(r.machine, r.name, r.instance);
        return sendJson(res, 204, undefined);
      case 'poll': {
        ownMachine(key, r.machine, 'read an inbox');
        const body = parseBody(await readBody(req, MAX_SMALL_REQUEST), PollBodySchema);
        const { presented, controller } = request;
        const messages = await this.waiting.hold(presented, controller, (admit) =>
          backend.poll(r.machine, r.name, {
            max: body.max ?? DEFAULT_POLL_MAX,
            waitMs: Math.round((body.wait ?? 0) * 1000),
            signal: controller.signal,
            admit,
          }),
        );
        return sendJson(res, 200, { messages });
      }
      case 'ack': {
        ownMachine(key, r.machine, 'ack messages');
        const body = parseBody(await readBody(req, MAX_SMALL_REQUEST), AckBodySchema);
        return sendJson(res, 200, { acked: await backend.ack(r.machine, r.name, body.acks) });
      }
      case 'send':
      case 'send-by-name': {
        const body = parseBody(await readBody(req, MAX_SEND_REQUEST), SendBodySchema);
        ownMachine(key, body.fromMachine, 'send');
        const bytes = Buffer.byteLength(body.body, 'utf8');
        if (bytes > MAX_MESSAGE_BYTES) {
          throw new HttpError(
            413,
            'too_large',
            `The message is ${bytes} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit; send a shorter one.`,
          );
        }
        const toMachine = r.kind === 'send' ? r.machine : await this.resolve(r.name);
        if (!(await backend.known(toMachine, r.name))) {
          throw new HttpError(
            404,
            'unknown_session',
            `No session named "${toMachine}:${r.name}" has ever joined this relay; check the name with relay_sessions.`,
          );
        }
        const { duplicate } = await backend.send(storedOf(body, toMachine, r.name));
        const live = await backend.live(toMachine, r.name);
        const answer: SendAnswer = { to: `${toMachine}:${r.name}`, key: body.key, live, duplicate };
        return sendJson(res, duplicate ? 200 : 201, answer);
      }
    }
  }

  /** The one machine with a live session named `name`. */
  private async resolve(name: string): Promise<string> {
    const machines = [
      ...new Set(
        (await this.options.backend.sessions()).filter((s) => s.name === name).map((s) => s.machine),
      ),
    ];
    if (machines.length === 1 && machines[0] !== undefined) return machines[0];
    if (machines.length === 0) {
      throw new HttpError(
        404,
        'unknown_session',
        `No live session named "${name}" on any machine of this relay; check relay_sessions, or address it as machine:name.`,
      );
    }
    throw new HttpError(
      409,
      'ambiguous_name',
      `Sessions named "${name}" are live on ${machines.join(', ')}; address one as machine:name.`,
    );
  }

  private async health(res: ServerResponse): Promise<void> {
    const backend = await this.options.backend.health();
    const body: Health = {
      status: backend.ok ? 'ok' : 'degraded',
      version: this.options.version,
      backend: { kind: this.options.backend.kind, ...backend },
    };
    sendJson(res, backend.ok ? 200 : 503, body);
  }

  private fail(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    let err: HttpError;
    if (isHttpError(e)) err = e;
    else if (isRelayError(e) && (e.code === 'bad_name' || e.code === 'bad_input'))
      err = new HttpError(400, e.code, e.message);
    else if (isRelayError(e) && (e.code === 'disk_full' || e.code === 'store_unwritable')) {
      this.log(`storage failure: ${e.message}`);
      err = new HttpError(503, 'backend_unavailable', "The relay's storage failed; retry later.", {
        retryAfter: 5,
      });
    } else {
      this.log(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      err = new HttpError(
        500,
        'internal',
        'The relay failed on this request; retry, and tell its operator if it persists.',
      );
    }
    if (err.status >= 500 && err.cause !== undefined) {
      this.log(`${err.code}: ${err.message}`);
    }
    if (res.headersSent || res.destroyed) return;
    sendError(res, err);
    if (err.status === 413) {
      // Drain what the client is still sending so it can read the 413, but not forever.
      let drained = 0;
      req.on('data', (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > 2 * MAX_SEND_REQUEST) req.destroy();
      });
      req.resume();
    }
  }
}

function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  return (typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null)?.[1];
}

import net from 'node:net';
import { NatsBackend } from '../../src/remote/backends/nats.js';
import { KeyRing } from '../../src/remote/keys.js';
import { defer, tempDir } from './cleanup.js';
import { CLI } from './paths.js';
import { type Child, type ServeOptions, serve, spawnChild } from './processes.js';
import type { Served } from './stdio.js';
import { waitFor } from './wait.js';

/**
 * Relay servers (`claude-relay relay`), machines' `serve` processes and NATS for the remote tests, all on
 * 127.0.0.1 with ports the OS picked. Everything is stopped after its test (`defer`), so a failing test
 * leaves no process, directory, stream or bucket behind.
 */
export const NATS_URL = process.env.RELAY_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const NATS_SERVER = process.env.RELAY_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A NATS stream and bucket prefix no other test run uses. */
export function uniquePrefix(): string {
  return `T${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`.toUpperCase();
}

/**
 * A unique prefix whose stream and buckets are deleted after the test, through a connection of their own:
 * the backends the test opened may be closed by then (a relay closes its backend), and a delete through a
 * closed connection fails without a word.
 */
export function droppedPrefix(url = NATS_URL): string {
  const prefix = uniquePrefix();
  defer(async () => {
    const b = await NatsBackend.open({ url, prefix, liveWindowMs: 120_000, leaseMs: 30_000 });
    await b.destroy();
    await b.close();
  });
  return prefix;
}

export interface RelayProc {
  readonly url: string;
  readonly port: number;
  readonly child: Child;
  /** Every line the relay logged, for the "no key in any log line" checks. */
  log(): string;
}

export interface RelayStart {
  readonly data: string;
  readonly port?: number;
  readonly backend?: 'embedded' | 'nats';
  readonly natsUrl?: string;
  readonly natsPrefix?: string;
  readonly rateLimit?: number;
  readonly leaseSeconds?: number;
}

/** Starts `claude-relay relay` and resolves once it printed the address it listens on. */
export async function startRelay(options: RelayStart): Promise<RelayProc> {
  const args = [CLI, 'relay', '--port', String(options.port ?? 0), '--data', options.data];
  if (options.backend === 'nats') {
    args.push('--backend', 'nats', '--nats-url', options.natsUrl ?? NATS_URL);
    if (options.natsPrefix) args.push('--nats-prefix', options.natsPrefix);
  }
  if (options.rateLimit !== undefined) args.push('--rate-limit', String(options.rateLimit));
  if (options.leaseSeconds !== undefined) args.push('--lease-seconds', String(options.leaseSeconds));
  const child = spawnChild(process.execPath, args);
  const url = await waitFor('the relay to listen', () => {
    if (!child.running) throw new Error(`relay exited: ${child.stderr()}`);
    return /listening on (http:\/\/\S+)/.exec(child.stdout())?.[1];
  });
  return { url, port: Number(new URL(url).port), child, log: () => child.stderr() };
}

/** Starts `claude-relay serve` as a session on `machine`, linked to the relay at `url` with `key`. */
export function serveMachine(
  options: ServeOptions & { home: string; name: string; machine: string; url?: string; key?: string },
): Promise<Served> {
  return serve({
    ...options,
    env: {
      RELAY_MACHINE_NAME: options.machine,
      RELAY_REMOTE_RETRY_MAX_MS: '500',
      ...(options.url === undefined ? {} : { RELAY_REMOTE_URL: options.url }),
      ...(options.key === undefined ? {} : { RELAY_API_KEY: options.key }),
      ...options.env,
    },
  });
}

/** The machine each of the remote tests' two sessions runs on. */
const MACHINE_OF = { web: 'laptop', api: 'server-2' } as const;

/** `web` (on laptop) or `api` (on server-2) linked to the relay at `url` with `key`, in a fresh home unless given. */
export async function serveAs(
  name: keyof typeof MACHINE_OF,
  url: string,
  key: string,
  options: { home?: string; env?: Record<string, string> } = {},
): Promise<Served> {
  const home = options.home ?? (await tempDir());
  return serveMachine({
    home,
    name,
    machine: MACHINE_OF[name],
    url,
    key,
    ...(options.env ? { env: options.env } : {}),
  });
}

/** Makes an API key for `machine` in a relay data directory, as `claude-relay relay keys add` does. */
export async function addKey(data: string, machine: string): Promise<string> {
  return (await KeyRing.inDataDir(data).add(machine)).key;
}

/** Polls through MCP until `count` messages came in (or fails after the bounded wait); returns their lines. */
export async function pollLines(served: Served, count: number, timeoutMs = 30_000): Promise<string[]> {
  const lines: string[] = [];
  await waitFor(
    `${count} message(s)`,
    async () => {
      const answer = await served.call('relay_poll');
      if (answer.isError) throw new Error(answer.text);
      lines.push(...answer.text.split('\n').filter((l) => l.startsWith('  [')));
      return lines.length >= count;
    },
    timeoutMs,
  );
  return lines;
}

/** A private NATS server with JetStream on its own port and store, for tests that stop and start NATS. */
export class PrivateNats {
  private child: Child | undefined;

  private constructor(
    readonly port: number,
    private readonly storeDir: string,
  ) {}

  static async start(): Promise<PrivateNats> {
    const nats = new PrivateNats(await freePort(), await tempDir('relay-nats-'));
    await nats.restart();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    const child = spawnChild(NATS_SERVER, [
      '-js',
      '-a',
      '127.0.0.1',
      '-p',
      String(this.port),
      '-sd',
      this.storeDir,
    ]);
    this.child = child;
    await waitFor('NATS to be ready', () => {
      if (!child.running) throw new Error(`nats-server exited: ${child.stderr()}`);
      return child.stderr().includes('Server is ready');
    });
  }

  /** A clean shutdown (SIGTERM): JetStream writes its state out first. */
  async stop(): Promise<void> {
    await this.child?.stop('SIGTERM');
  }
}

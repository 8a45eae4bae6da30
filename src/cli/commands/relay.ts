import os from 'node:os';
import path from 'node:path';
import { RelayError } from '../../errors.js';
import type { Backend } from '../../remote/backend.js';
import { EmbeddedBackend } from '../../remote/backends/embedded.js';
import { OpeningBackend } from '../../remote/backends/opening.js';
import { KeyRing, SharedAndLocalKeys } from '../../remote/keys.js';
import { RelayServer } from '../../remote/server.js';
import { packageVersion } from '../../version.js';
import { logProblem } from '../log.js';

export interface RelayOptions {
  port: string;
  host: string;
  data?: string;
  backend: string;
  natsUrl: string;
  natsPrefix: string;
  rateLimit: string;
  leaseSeconds: string;
  quiet?: boolean;
  hideDetails?: boolean;
}

/** A session is live at the relay while its last heartbeat is younger than this (as locally). */
const LIVE_WINDOW_MS = 120_000;

export function dataDir(option: string | undefined): string {
  return path.resolve(
    option ?? process.env.RELAY_SERVER_DATA ?? path.join(os.homedir(), '.claude-relay-server'),
  );
}

function whole(raw: string, what: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RelayError(
      'bad_input',
      `Expected ${what} to be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}.`,
    );
  }
  return n;
}

export async function openBackend(
  options: Pick<RelayOptions, 'backend' | 'natsUrl' | 'natsPrefix'> & { leaseSeconds?: string },
  data: string,
  /** A one-off command (`relay keys …`) needs the storage now, and fails if it cannot be reached. */
  now = false,
): Promise<Backend> {
  const leaseMs = whole(options.leaseSeconds ?? '30', '--lease-seconds', 1, 3600) * 1000;
  if (options.backend === 'embedded') {
    return new EmbeddedBackend(data, { liveWindowMs: LIVE_WINDOW_MS, leaseMs }, logProblem);
  }
  if (options.backend === 'nats') {
    // Loaded only here: a relay on the embedded log never loads the NATS client.
    const { NatsBackend } = await import('../../remote/backends/nats.js');
    const open = () =>
      NatsBackend.open({
        url: options.natsUrl,
        prefix: options.natsPrefix,
        liveWindowMs: LIVE_WINDOW_MS,
        leaseMs,
      });
    if (now) return open();
    process.stderr.write(`claude-relay relay: connecting to NATS at ${options.natsUrl}…\n`);
    // Listening does not wait for NATS: /health says why it is down, and the connection keeps trying.
    return new OpeningBackend('nats', `NATS at ${options.natsUrl}`, async () => {
      const nats = await open();
      // A message is only as durable as its stream: say what this one is (README: NATS durability).
      const d = await nats.durability();
      process.stderr.write(
        `claude-relay relay: NATS stream ${d.stream}: ${d.storage} storage, ${d.replicas} replica(s)` +
          `${d.storage === 'file' ? '' : ' (memory storage loses every message when NATS stops)'}\n`,
      );
      return nats;
    });
  }
  throw new RelayError(
    'bad_input',
    `Expected --backend to be embedded or nats, got ${JSON.stringify(options.backend)}.`,
  );
}

/** `claude-relay relay`: runs the HTTP relay until SIGINT or SIGTERM. */
export async function run(options: RelayOptions): Promise<number> {
  const port = whole(options.port, '--port', 0, 65535);
  const rateLimit = whole(options.rateLimit, '--rate-limit', 1, 1_000_000);
  const data = dataDir(options.data);
  const backend = await openBackend(options, data);
  // On NATS every relay shares the keys and the request limit; the embedded relay keeps keys.json.
  const shared = backend.shared?.(rateLimit);
  const own = KeyRing.inDataDir(data);
  const keys = shared ? new SharedAndLocalKeys(shared.keys, own) : own;
  const hideDetails = options.hideDetails === true || process.env.RELAY_HIDE_DETAILS === '1';
  const log = options.quiet
    ? () => {}
    : (line: string) => process.stderr.write(`claude-relay relay: ${line}\n`);
  let server: RelayServer;
  try {
    server = await RelayServer.listen(
      {
        backend,
        keys,
        version: packageVersion(),
        rateLimit,
        log,
        hideDetails,
        ...(shared ? { rate: shared.rate } : {}),
      },
      port,
      options.host,
    );
  } catch (e) {
    await backend.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new RelayError(
        'bad_input',
        `Cannot listen on ${options.host}:${port} (${code}); pick another --port or --host.`,
      );
    }
    throw e;
  }
  // Unknown while the storage is not connected yet (NATS down at start): no hint then.
  const count = await keys.count().catch(() => undefined);
  process.stdout.write(
    `claude-relay relay listening on ${server.url} (backend ${backend.kind}, data ${data}, keys in ${keys.where})\n`,
  );
  if (count === 0) {
    process.stderr.write(
      `claude-relay relay: no API keys yet; make one per machine with: claude-relay relay${shared ? ` --backend nats --nats-url ${options.natsUrl} --nats-prefix ${options.natsPrefix}` : ''} keys add <machine> --data ${data}\n`,
    );
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
  return 0;
}

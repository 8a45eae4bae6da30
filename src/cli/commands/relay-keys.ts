import type { Backend } from '../../remote/backend.js';
import { fingerprint, KeyRing, type KeyStore, SharedAndLocalKeys } from '../../remote/keys.js';
import { dataDir, openBackend } from './relay.js';

interface KeyOptions {
  data?: string;
  json?: boolean;
  /** The relay's own options: on NATS the keys are in a bucket every relay shares. */
  backend?: string;
  natsUrl?: string;
  natsPrefix?: string;
}

/** The relay's keys: its data directory's keys.json, or the NATS bucket of `--backend nats`. */
async function withKeys(options: KeyOptions, use: (keys: KeyStore) => Promise<number>): Promise<number> {
  if (options.backend !== 'nats') return use(KeyRing.inDataDir(dataDir(options.data)));
  const backend: Backend = await openBackend(
    {
      backend: 'nats',
      natsUrl: options.natsUrl ?? 'nats://127.0.0.1:4222',
      natsPrefix: options.natsPrefix ?? 'CLAUDE_RELAY',
    },
    dataDir(options.data),
    true,
  );
  try {
    const shared = backend.shared?.(1);
    if (!shared) throw new Error('this backend keeps no shared keys');
    return await use(new SharedAndLocalKeys(shared.keys, KeyRing.inDataDir(dataDir(options.data))));
  } finally {
    await backend.close();
  }
}

/** `claude-relay relay keys add <machine>`: prints the new key once; only its hash is stored. */
export function add(machine: string, options: KeyOptions): Promise<number> {
  return withKeys(options, async (keys) => {
    const { key, record } = await keys.add(machine);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ machine, key, fingerprint: fingerprint(record) })}\n`);
      return 0;
    }
    process.stdout.write(
      [
        `API key for machine "${machine}" (shown once; only its hash is kept in ${keys.where}):`,
        '',
        `  ${key}`,
        '',
        `On ${machine}, set RELAY_MACHINE_NAME=${machine}, RELAY_API_KEY=<the key> and RELAY_REMOTE_URL=<this relay's URL>.`,
        '',
      ].join('\n'),
    );
    return 0;
  });
}

export function list(options: KeyOptions): Promise<number> {
  return withKeys(options, async (keys) => {
    const records = await keys.list();
    if (options.json) {
      const shown = records.map((r) => ({
        machine: r.machine,
        fingerprint: fingerprint(r),
        createdAt: r.createdAt,
      }));
      process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
      return 0;
    }
    if (records.length === 0) {
      process.stdout.write(
        `No API keys in ${keys.where}; make one with: claude-relay relay keys add <machine>\n`,
      );
      return 0;
    }
    const lines = [`${records.length} API key(s) in ${keys.where}:`];
    for (const r of records) {
      lines.push(`  - ${r.machine}  ${fingerprint(r)}…  made ${new Date(r.createdAt).toISOString()}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  });
}

export function revoke(machine: string, options: KeyOptions): Promise<number> {
  return withKeys(options, async (keys) => {
    const removed = await keys.revoke(machine);
    if (removed === 0) {
      process.stderr.write(
        `claude-relay: no key for machine "${machine}" in ${keys.where}; see claude-relay relay keys list.\n`,
      );
      return 1;
    }
    process.stdout.write(
      `Revoked ${removed} key(s) of machine "${machine}"; every relay using them refuses them at once, waiting requests included.\n`,
    );
    return 0;
  });
}

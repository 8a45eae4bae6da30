import { fingerprint, KeyRing } from '../../remote/keys.js';
import { dataDir } from './relay.js';

/** `claude-relay relay keys add <machine>`: prints the new key once; only its hash is stored. */
export async function add(machine: string, options: { data?: string; json?: boolean }): Promise<number> {
  const keys = KeyRing.inDataDir(dataDir(options.data));
  const { key, record } = await keys.add(machine);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ machine, key, fingerprint: fingerprint(record) })}\n`);
    return 0;
  }
  process.stdout.write(
    [
      `API key for machine "${machine}" (shown once; only its hash is kept in ${keys.file}):`,
      '',
      `  ${key}`,
      '',
      `On ${machine}, set RELAY_MACHINE_NAME=${machine}, RELAY_API_KEY=<the key> and RELAY_REMOTE_URL=<this relay's URL>.`,
      '',
    ].join('\n'),
  );
  return 0;
}

export async function list(options: { data?: string; json?: boolean }): Promise<number> {
  const keys = KeyRing.inDataDir(dataDir(options.data));
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
      `No API keys in ${keys.file}; make one with: claude-relay relay keys add <machine>\n`,
    );
    return 0;
  }
  const lines = [`${records.length} API key(s) in ${keys.file}:`];
  for (const r of records) {
    lines.push(`  - ${r.machine}  ${fingerprint(r)}…  made ${new Date(r.createdAt).toISOString()}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export async function revoke(machine: string, options: { data?: string }): Promise<number> {
  const keys = KeyRing.inDataDir(dataDir(options.data));
  const removed = await keys.revoke(machine);
  if (removed === 0) {
    process.stderr.write(
      `claude-relay: no key for machine "${machine}" in ${keys.file}; see claude-relay relay keys list.\n`,
    );
    return 1;
  }
  process.stdout.write(
    `Revoked ${removed} key(s) of machine "${machine}"; a running relay refuses them from its next request.\n`,
  );
  return 0;
}

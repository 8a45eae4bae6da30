import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import * as z from 'zod';
import { RelayError } from '../errors.js';
import { NAME_PATTERN, validateName } from '../log/names.js';
import { safeJson } from './protocol.js';

/**
 * API keys of a relay server. Each key is 32 random bytes, shown once when made; the file keeps only its
 * sha256, so a copy of the file lets nobody in. Each key is bound to one machine name. Lookups hash the
 * presented key and compare it with every stored hash in constant time.
 */
const KeyRecordSchema = z.object({
  machine: z.string().regex(NAME_PATTERN),
  /** sha256 of the key, hex. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.number().int().nonnegative(),
});
export type KeyRecord = z.infer<typeof KeyRecordSchema>;

const KeyFileSchema = z.object({ v: z.literal(1), keys: z.array(KeyRecordSchema) });

export const KEYS_FILE = 'keys.json';
const KEY_PREFIX = 'crk_';

/** A short, public fingerprint of a key (the start of its hash): safe for logs and `keys list`. */
export function fingerprint(record: Pick<KeyRecord, 'hash'>): string {
  return record.hash.slice(0, 8);
}

function hashOf(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export class KeyRing {
  readonly file: string;
  private records: KeyRecord[] = [];
  private loadedStamp = '';

  constructor(file: string) {
    this.file = path.resolve(file);
  }

  static inDataDir(dataDir: string): KeyRing {
    return new KeyRing(path.join(dataDir, KEYS_FILE));
  }

  /** Re-reads the file when it changed, so `keys add` and `keys revoke` act on a running server. */
  private async refresh(): Promise<void> {
    const st = await fs.stat(this.file).catch(() => undefined);
    const stamp = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'none';
    if (stamp === this.loadedStamp) return;
    this.records = await this.read();
    this.loadedStamp = stamp;
  }

  private async read(): Promise<KeyRecord[]> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const parsed = KeyFileSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new RelayError(
        'corrupt_event',
        `The key file ${this.file} is not valid; restore it from a backup or remove it and make new keys.`,
      );
    }
    return parsed.data.keys;
  }

  private async write(records: readonly KeyRecord[]): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, `${JSON.stringify({ v: 1, keys: records }, null, 2)}\n`, {
      fsync: true,
      mode: 0o600,
    });
  }

  /** The machine a presented key belongs to, or undefined. Every stored hash is compared, found or not. */
  async lookup(presented: string): Promise<KeyRecord | undefined> {
    await this.refresh();
    const hash = hashOf(presented);
    let found: KeyRecord | undefined;
    for (const record of this.records) {
      const stored = Buffer.from(record.hash, 'hex');
      if (timingSafeEqual(hash, stored) && found === undefined) found = record;
    }
    return found;
  }

  async count(): Promise<number> {
    await this.refresh();
    return this.records.length;
  }

  /** Makes a key for `machine` and returns it: the only time it is ever shown. */
  async add(machine: string, now: number = Date.now()): Promise<{ key: string; record: KeyRecord }> {
    validateName(machine, 'machine');
    const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record: KeyRecord = { machine, hash: hashOf(key).toString('hex'), createdAt: now };
    await this.write([...(await this.read()), record]);
    return { key, record };
  }

  async list(): Promise<KeyRecord[]> {
    return this.read();
  }

  /** Removes every key of `machine`; resolves how many there were. */
  async revoke(machine: string): Promise<number> {
    validateName(machine, 'machine');
    const records = await this.read();
    const kept = records.filter((r) => r.machine !== machine);
    if (kept.length !== records.length) await this.write(kept);
    return records.length - kept.length;
  }
}

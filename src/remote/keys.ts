import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs, watch as fsWatch } from 'node:fs';
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

export function hashOf(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** A new key and its record, which keeps only the key's hash. */
export function makeKey(machine: string, now: number): { key: string; record: KeyRecord } {
  validateName(machine, 'machine');
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, record: { machine, hash: hashOf(key).toString('hex'), createdAt: now } };
}

/**
 * Where a relay's keys live: `keys.json` in the data directory (KeyRing), or, on NATS, a KV bucket that
 * every relay of that NATS shares (backends/nats-keys.ts), so one add or revoke holds for all of them.
 */
export interface KeyStore {
  /** Where the keys are, for people: a file or a bucket. */
  readonly where: string;
  /** The machine a presented key belongs to, or undefined. */
  lookup(presented: string): Promise<KeyRecord | undefined>;
  count(): Promise<number>;
  add(machine: string, now?: number): Promise<{ key: string; record: KeyRecord }>;
  list(): Promise<KeyRecord[]>;
  /** Removes every key of `machine`; resolves how many there were. */
  revoke(machine: string): Promise<number>;
  /** Calls `changed` whenever keys may have changed (here or from another process); returns the unsubscribe. */
  watch(changed: () => void): () => void;
}

/** How often a watched key file is looked at when no file event came (a missed event, a network disk). */
const KEY_FILE_RESCAN_MS = 1000;

export class KeyRing implements KeyStore {
  readonly file: string;
  private records: KeyRecord[] = [];
  private loadedStamp = '';

  constructor(file: string) {
    this.file = path.resolve(file);
  }

  static inDataDir(dataDir: string): KeyRing {
    return new KeyRing(path.join(dataDir, KEYS_FILE));
  }

  get where(): string {
    return this.file;
  }

  watch(changed: () => void): () => void {
    let last = '';
    const look = async () => {
      const st = await fs.stat(this.file).catch(() => undefined);
      const stamp = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'none';
      if (stamp !== last && last !== '') changed();
      last = stamp;
    };
    void look();
    const timer = setInterval(() => void look(), KEY_FILE_RESCAN_MS);
    timer.unref();
    // The directory, not the file: `keys add` and `revoke` replace the file by a rename.
    let watcher: ReturnType<typeof fsWatch> | undefined;
    try {
      watcher = fsWatch(path.dirname(this.file), () => void look());
      watcher.on('error', () => watcher?.close());
    } catch {
      // No directory yet, or no watching here: the rescan alone notices.
    }
    return () => {
      clearInterval(timer);
      watcher?.close();
    };
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
    const { key, record } = makeKey(machine, now);
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

/**
 * The keys of a relay on NATS: the bucket every relay shares, where new keys go, and this relay's own
 * `keys.json`, so keys made before the bucket existed keep working. A revoke removes the machine's keys
 * from both.
 */
export class SharedAndLocalKeys implements KeyStore {
  constructor(
    private readonly shared: KeyStore,
    private readonly local: KeyStore,
  ) {}

  get where(): string {
    return `${this.shared.where} (and ${this.local.where})`;
  }

  async lookup(presented: string): Promise<KeyRecord | undefined> {
    return (await this.shared.lookup(presented)) ?? (await this.local.lookup(presented));
  }

  async count(): Promise<number> {
    return (await this.shared.count()) + (await this.local.count());
  }

  add(machine: string, now?: number): Promise<{ key: string; record: KeyRecord }> {
    return this.shared.add(machine, now);
  }

  async list(): Promise<KeyRecord[]> {
    return [...(await this.shared.list()), ...(await this.local.list())];
  }

  async revoke(machine: string): Promise<number> {
    return (await this.shared.revoke(machine)) + (await this.local.revoke(machine));
  }

  watch(changed: () => void): () => void {
    const stops = [this.shared.watch(changed), this.local.watch(changed)];
    return () => {
      for (const stop of stops) stop();
    };
  }
}

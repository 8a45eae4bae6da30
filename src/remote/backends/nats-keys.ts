import { type KV, KvWatchInclude } from '@nats-io/kv';
import { z } from 'zod';
import { NAME_PATTERN, validateName } from '../../log/names.js';
import { hashOf, type KeyRecord, type KeyStore, makeKey } from '../keys.js';
import { safeJson } from '../protocol.js';

/**
 * API keys in a NATS KV bucket that every relay on that NATS shares: one `keys add` or `revoke` holds for
 * all of them at once. An entry's key is the sha256 of an API key (hex) and its value the machine it
 * belongs to, so the bucket, like `keys.json`, lets nobody in. A lookup reads the bucket (a revoke on
 * another relay counts from the next request); a watch tells waiting requests of a revoke.
 */
const EntrySchema = z.object({ machine: z.string().regex(NAME_PATTERN), createdAt: z.number().int() });

export class NatsKeys implements KeyStore {
  constructor(
    private readonly kv: () => Promise<KV>,
    readonly where: string,
  ) {}

  private async get(hash: string): Promise<KeyRecord | undefined> {
    const entry = await (await this.kv()).get(hash);
    if (entry?.operation !== 'PUT') return undefined;
    const parsed = EntrySchema.safeParse(safeJson(entry.string()));
    return parsed.success ? { ...parsed.data, hash } : undefined;
  }

  // The bucket is looked up by the hash, never compared with a secret in this process: no timing to leak.
  lookup(presented: string): Promise<KeyRecord | undefined> {
    return this.get(hashOf(presented).toString('hex'));
  }

  async list(): Promise<KeyRecord[]> {
    const out: KeyRecord[] = [];
    for await (const hash of await (await this.kv()).keys()) {
      const record = await this.get(hash);
      if (record) out.push(record);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  async count(): Promise<number> {
    return (await this.list()).length;
  }

  async add(machine: string, now: number = Date.now()): Promise<{ key: string; record: KeyRecord }> {
    const made = makeKey(machine, now);
    const { hash, ...entry } = made.record;
    await (await this.kv()).create(hash, JSON.stringify(entry));
    return made;
  }

  async revoke(machine: string): Promise<number> {
    validateName(machine, 'machine');
    const kv = await this.kv();
    let removed = 0;
    for (const record of await this.list()) {
      if (record.machine !== machine) continue;
      await kv.purge(record.hash);
      removed++;
    }
    return removed;
  }

  watch(changed: () => void): () => void {
    let stop = false;
    let halt = () => {};
    void (async () => {
      const updates = await (await this.kv()).watch({ include: KvWatchInclude.UpdatesOnly });
      halt = () => updates.stop();
      if (stop) halt();
      for await (const _ of updates) changed();
    })().catch(() => {
      // NATS went away: lookups fail (503) until it is back, and a poll re-checks its key before answering.
    });
    return () => {
      stop = true;
      halt();
    };
  }
}

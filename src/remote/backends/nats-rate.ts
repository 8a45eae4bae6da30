import type { KV } from '@nats-io/kv';
import type { RateLimit } from '../rate.js';

/**
 * The per-key request limit shared by every relay on one NATS: a counter per key and minute in a KV bucket
 * whose entries age out, raised with compare-and-set so two relays counting at once both count. A fixed
 * window (the in-memory limiter slides): a burst at a minute's end and the next start can reach twice the
 * limit for a moment, which still bounds a flood.
 */
const ATTEMPTS = 8;

export class NatsRate implements RateLimit {
  constructor(
    private readonly kv: () => Promise<KV>,
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async take(id: string): Promise<number> {
    const kv = await this.kv();
    const now = this.now();
    const window = Math.floor(now / this.windowMs);
    const key = `${id}.${window}`;
    for (let i = 0; i < ATTEMPTS; i++) {
      const entry = await kv.get(key);
      const count = entry?.operation === 'PUT' ? Number(entry.string()) || 0 : 0;
      if (count >= this.limit) return Math.max(1, Math.ceil(((window + 1) * this.windowMs - now) / 1000));
      try {
        if (entry?.operation === 'PUT') await kv.update(key, String(count + 1), entry.revision);
        else await kv.create(key, '1');
        return 0;
      } catch {
        // Another relay counted in between: read again.
      }
    }
    // Counting kept losing races: the request is let through rather than refused for the relay's sake.
    return 0;
  }
}

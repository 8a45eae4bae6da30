/** A per-key request limit; `take` counts one request and resolves 0 when allowed, else seconds to wait. */
export interface RateLimit {
  take(id: string): Promise<number> | number;
}

/**
 * A sliding-window request limit per key: at most `limit` requests in any `windowMs`. In memory, per relay
 * process (relays on NATS share one, backends/nats-rate.ts): it protects the server from a flood; the
 * per-session send limit is kept in each client's log.
 */
export class RateLimiter implements RateLimit {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly hits = new Map<string, number[]>();

  constructor(limit: number, windowMs = 60_000, now: () => number = Date.now) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.now = now;
  }

  /** Counts one request; resolves 0 when allowed, else the seconds until one is allowed again. */
  take(id: string): number {
    const now = this.now();
    const recent = (this.hits.get(id) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.limit) {
      this.hits.set(id, recent);
      const oldest = recent[recent.length - this.limit] ?? now;
      return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
    }
    recent.push(now);
    this.hits.set(id, recent);
    if (this.hits.size > 10_000) this.prune(now);
    return 0;
  }

  private prune(now: number): void {
    for (const [id, times] of this.hits) {
      if (times.every((t) => now - t >= this.windowMs)) this.hits.delete(id);
    }
  }
}

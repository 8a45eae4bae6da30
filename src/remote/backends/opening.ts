import type { Backend, BackendHealth, PollRequest } from '../backend.js';
import { HttpError } from '../errors.js';
import type { KeyStore } from '../keys.js';
import type { HeartbeatBody, LeasedMessage, Presence, StoredMessage } from '../protocol.js';
import type { RateLimit } from '../rate.js';

const RETRY_OPEN_MS = 1000;

/**
 * A backend whose storage may not be reachable yet (NATS down when the relay starts). The relay listens at
 * once: until the storage is open, `/health` answers 503 with the reason and every other request 503
 * `backend_unavailable` with `Retry-After`, which clients retry; opening is retried until it succeeds.
 */
export class OpeningBackend implements Backend {
  private backend: Backend | undefined;
  private reason: string;
  private closed = false;

  constructor(
    readonly kind: Backend['kind'],
    private readonly what: string,
    open: () => Promise<Backend>,
  ) {
    this.reason = `not connected to ${what} yet; retrying`;
    void this.keepOpening(open);
  }

  private async keepOpening(open: () => Promise<Backend>): Promise<void> {
    while (!this.closed) {
      try {
        const backend = await open();
        if (this.closed) await backend.close();
        else this.backend = backend;
        return;
      } catch (e) {
        this.reason = `cannot open ${this.what} (${e instanceof Error ? e.message : String(e)}); retrying`;
        await new Promise((resolve) => setTimeout(resolve, RETRY_OPEN_MS).unref());
      }
    }
  }

  private get open(): Backend {
    if (this.backend) return this.backend;
    throw new HttpError(503, 'backend_unavailable', `The relay's storage is down: ${this.reason}.`, {
      retryAfter: 1,
    });
  }

  health(): Promise<BackendHealth> {
    if (!this.backend) return Promise.resolve({ ok: false, detail: this.reason });
    return this.backend.health();
  }

  async send(message: StoredMessage): Promise<{ duplicate: boolean }> {
    return this.open.send(message);
  }

  async known(machine: string, name: string): Promise<boolean> {
    return this.open.known(machine, name);
  }

  async live(machine: string, name: string): Promise<boolean> {
    return this.open.live(machine, name);
  }

  async sessions(): Promise<Presence[]> {
    return this.open.sessions();
  }

  async heartbeat(machine: string, name: string, beat: HeartbeatBody): Promise<void> {
    return this.open.heartbeat(machine, name, beat);
  }

  async leave(machine: string, name: string, instance: string): Promise<void> {
    return this.open.leave(machine, name, instance);
  }

  async poll(machine: string, name: string, request: PollRequest): Promise<LeasedMessage[]> {
    return this.open.poll(machine, name, request);
  }

  async ack(machine: string, name: string, tokens: readonly string[]): Promise<number> {
    return this.open.ack(machine, name, tokens);
  }

  /**
   * The storage's shared keys and request limit (relays on NATS share them), reached once it is open: until
   * then a key cannot be checked, so requests get the same 503 as everything else.
   */
  shared(rateLimit: number): { keys: KeyStore; rate: RateLimit } {
    let inner: { keys: KeyStore; rate: RateLimit } | undefined;
    const get = () => {
      inner ??= this.open.shared?.(rateLimit);
      if (!inner) throw new HttpError(503, 'backend_unavailable', `The relay's storage shares no keys.`);
      return inner;
    };
    const what = this.what;
    const keys: KeyStore = {
      get where() {
        return inner?.keys.where ?? `${what} (once connected)`;
      },
      lookup: (presented) => get().keys.lookup(presented),
      count: () => get().keys.count(),
      add: (machine, now) => get().keys.add(machine, now),
      list: () => get().keys.list(),
      revoke: (machine) => get().keys.revoke(machine),
      watch: (changed) => {
        let stop: (() => void) | undefined;
        let cancelled = false;
        // Subscribes once the storage is open; until then no key can change under a waiting request.
        const timer = setInterval(() => {
          if (cancelled || !this.backend) return;
          clearInterval(timer);
          stop = get().keys.watch(changed);
        }, RETRY_OPEN_MS);
        timer.unref();
        if (this.backend) {
          clearInterval(timer);
          stop = get().keys.watch(changed);
        }
        return () => {
          cancelled = true;
          clearInterval(timer);
          stop?.();
        };
      },
    };
    return { keys, rate: { take: (id) => get().rate.take(id) } };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.backend?.close();
  }
}

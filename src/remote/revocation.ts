import { badKey } from './errors.js';
import type { KeyStore } from './keys.js';

/**
 * Requests that wait (long-polls), by the key they came with. A key revoked while its request waits ends
 * that request at once with 401; and before a waiting request is handed a message its key is looked up
 * again, so a message that arrived after the revocation, before the relay heard of it, is given back.
 */
export class WaitingRequests {
  private readonly held = new Map<AbortController, { presented: string; revoked: boolean }>();
  private readonly unwatch: () => void;

  constructor(private readonly keys: KeyStore) {
    this.unwatch = keys.watch(() => void this.recheck());
  }

  /** Runs `wait` with an `admit` check for the backend; throws the 401 if the key went meanwhile. */
  async hold<T>(
    presented: string,
    controller: AbortController,
    wait: (admit: () => Promise<boolean>) => Promise<T>,
  ): Promise<T> {
    const entry = { presented, revoked: false };
    this.held.set(controller, entry);
    const admit = async () => {
      if (!entry.revoked && !(await this.keys.lookup(presented))) entry.revoked = true;
      return !entry.revoked;
    };
    try {
      // A revoke between the request's key check and now was told to nobody: look once more.
      if (!(await admit())) throw badKey();
      const out = await wait(admit);
      if (entry.revoked) throw badKey();
      return out;
    } finally {
      this.held.delete(controller);
    }
  }

  private async recheck(): Promise<void> {
    for (const [controller, entry] of this.held) {
      if (entry.revoked || (await this.keys.lookup(entry.presented).catch(() => true))) continue;
      entry.revoked = true;
      controller.abort();
    }
  }

  get size(): number {
    return this.held.size;
  }

  close(): void {
    this.unwatch();
  }
}

/** Waiting between retries of the remote relay: a backoff, and a sleep that news cuts short. */

const FIRST_RETRY_MS = 250;

/** 250 ms doubling up to `maxMs`, ±20 % so that many clients do not retry in step; `Retry-After` wins. */
export function backoffMs(attempt: number, maxMs: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000;
  const base = Math.min(maxMs, FIRST_RETRY_MS * 2 ** Math.min(attempt, 20));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** A sleep that `wake()` cuts short; a wake while nobody sleeps makes the next sleep return at once. */
export class Alarm {
  private wakeUp: (() => void) | undefined;
  private woken = false;

  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wakeUp = done;
    });
  }

  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }
}

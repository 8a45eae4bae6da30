/**
 * The one bounded wait of the tests and the bench: re-checks a condition until it holds, never a sleep that
 * hopes something happened and never a timing assertion.
 */

/** Resolves after `ms`; only as a bound on a wait or to space out checks, never to let something happen. */
export function until(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Re-checks `probe` until it returns a value other than undefined or false (and returns it), or fails with
 * `what` once `timeoutMs` passed. A probe that throws is checked again (what it threw last is in the failure):
 * a server not listening yet refuses connections.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await until(20);
  }
}

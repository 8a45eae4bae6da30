/**
 * Writes to stdout that know when they are done. A command that takes messages commits them only once its
 * output has been handed to the OS, and the process exits only after stdout has drained: exiting earlier
 * cut a piped answer off at the pipe's 64 KiB while its messages were already consumed.
 */

/** Resolves once `text` has been handed to the OS (true), or the write failed (false). */
export function written(text: string): Promise<boolean> {
  return new Promise((resolve) => process.stdout.write(text, (e) => resolve(!e)));
}

/** Resolves once everything written to stdout so far has left the process. */
export function drained(): Promise<void> {
  return written('').then(() => {});
}

/**
 * Writes the output that carries taken messages, then commits them; a failed write (a closed pipe) gives
 * them back. A process killed in between leaves them leased by a dead pid, so the next take returns them.
 */
export async function writeTaken(
  text: string,
  take: { commit(): Promise<void>; release(): Promise<void> },
): Promise<void> {
  if (await written(text)) await take.commit();
  else await take.release();
}

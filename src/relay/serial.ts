/**
 * Runs tasks one at a time, in the order they were queued. MCP handlers run concurrently; a server's sends
 * go through this so a poller can never see a later send of this sender while an earlier one is still
 * being written. A task may call `release` once its writes are visible: the next task starts then, while
 * this one still waits for its fsync (so concurrent sends share one folder fsync, in order).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: (release: () => void) => Promise<T>): Promise<T> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const result = this.tail.then(
      () => task(release),
      () => task(release),
    );
    this.tail = Promise.race([released, result.catch(() => {})]);
    return result;
  }
}

/**
 * Runs tasks one at a time, in the order they were queued. MCP handlers run concurrently; a server's sends
 * go through this so a poller can never see a later send of this sender while an earlier one is still
 * being written.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => {});
    return result;
  }
}

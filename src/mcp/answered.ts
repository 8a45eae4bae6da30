/**
 * Knowing when an answer has left the process. A tool that takes messages must not mark them consumed
 * until the response frame carrying them has been written to stdout: a server killed before that would
 * otherwise lose them. The SDK resolves `send` once a frame is buffered, so stdio is wrapped to resolve
 * only when the write has been handed to the OS, and each response's id then runs what waits on it.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

/**
 * `written`: the frame reached the OS. `cancelled`: the request was cancelled before its answer was sent, so
 * it never will be. `failed`: the write failed or the connection closed; whether the client got it is unknown.
 */
export type Outcome = 'written' | 'cancelled' | 'failed';
type AfterWrite = (outcome: Outcome) => Promise<void> | void;

export class Answers {
  private readonly waiting = new Map<RequestId, AfterWrite[]>();
  private readonly sending = new Set<RequestId>();
  private readonly onError: (e: unknown) => void;

  constructor(onError: (e: unknown) => void) {
    this.onError = onError;
  }

  /**
   * Runs `fn` once the response to `id` has been written out, or is known never to be: the SDK sends no
   * answer to a request cancelled before its handler returned, so `signal` tells that case apart.
   */
  after(id: RequestId, signal: AbortSignal, fn: AfterWrite): void {
    const list = this.waiting.get(id) ?? [];
    list.push(fn);
    this.waiting.set(id, list);
    const cancel = () => {
      if (!this.sending.has(id)) this.settle(id, 'cancelled');
    };
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
  }

  /** Wraps a transport's `send` so that writing a response runs what waits on its id. */
  watch<T extends Transport>(transport: T): T {
    const send = transport.send.bind(transport);
    transport.send = async (message: JSONRPCMessage, options) => {
      const id = 'id' in message && !('method' in message) ? message.id : undefined;
      if (id !== undefined) this.sending.add(id);
      try {
        await send(message, options);
      } catch (e) {
        if (id !== undefined) this.settle(id, 'failed');
        throw e;
      }
      if (id !== undefined) this.settle(id, 'written');
    };
    const close = transport.onclose;
    transport.onclose = () => {
      for (const id of [...this.waiting.keys()]) this.settle(id, 'failed');
      close?.();
    };
    return transport;
  }

  private settle(id: RequestId, outcome: Outcome): void {
    this.sending.delete(id);
    const list = this.waiting.get(id);
    if (!list) return;
    this.waiting.delete(id);
    for (const fn of list) {
      void Promise.resolve()
        .then(() => fn(outcome))
        .catch(this.onError);
    }
  }
}

/** Stdio whose `send` resolves when the frame has been handed to the OS, not when it was buffered. */
export class FlushedStdioTransport extends StdioServerTransport {
  private readonly out: NodeJS.WritableStream;

  constructor(stdin: NodeJS.ReadableStream = process.stdin, stdout: NodeJS.WritableStream = process.stdout) {
    super(stdin as never, stdout as never);
    this.out = stdout;
  }

  override send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.write(`${JSON.stringify(message)}\n`, (e) => (e ? reject(e) : resolve()));
    });
  }
}

/** What a take does once its answer's fate is known: a lost answer keeps its lease, so it comes back `again`. */
export function settleTake(take: { commit(): Promise<void>; release(): Promise<void> }) {
  return (outcome: Outcome): Promise<void> | undefined => {
    if (outcome === 'written') return take.commit();
    if (outcome === 'cancelled') return take.release();
    return undefined;
  };
}

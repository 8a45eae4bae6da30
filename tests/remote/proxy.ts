import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A reverse proxy between a client and a relay that can break things on purpose, on 127.0.0.1:
 * - `cut`: close the client's connection without forwarding (the request never reached the relay);
 * - `lose-answer`: forward, let the relay finish (it committed), then close the client's connection instead
 *   of answering: the client cannot tell whether the request took effect.
 * Rules match method and path, and each applies a given number of times.
 */
export type Fault = 'cut' | 'lose-answer';

interface Rule {
  readonly method: string;
  readonly path: RegExp;
  readonly fault: Fault;
  times: number;
}

export interface Seen {
  readonly method: string;
  readonly path: string;
  /** The relay's status, or the fault applied. */
  readonly outcome: number | Fault | 'relay-down';
}

export class FaultProxy {
  readonly seen: Seen[] = [];
  private readonly rules: Rule[] = [];
  private readonly server: http.Server;
  private readonly upstream = new Set<AbortController>();
  private inFlightCount = new Map<string, number>();

  private constructor(private readonly target: string) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(target: string): Promise<FaultProxy> {
    const proxy = new FaultProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  inject(method: string, path: RegExp, fault: Fault, times = 1): void {
    this.rules.push({ method, path, fault, times });
  }

  /** Requests whose path matches, forwarded and not yet answered by the relay. */
  inFlight(path: RegExp): number {
    let n = 0;
    for (const [p, count] of this.inFlightCount) if (path.test(p)) n += count;
    return n;
  }

  count(method: string, path: RegExp, outcome?: Seen['outcome']): number {
    return this.seen.filter(
      (s) => s.method === method && path.test(s.path) && (outcome === undefined || s.outcome === outcome),
    ).length;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rule = this.rules.find((r) => r.times > 0 && r.method === method && r.path.test(path));
    if (rule) rule.times--;
    if (rule?.fault === 'cut') {
      this.seen.push({ method, path, outcome: 'cut' });
      res.socket?.destroy();
      return;
    }
    const controller = new AbortController();
    this.upstream.add(controller);
    this.inFlightCount.set(path, (this.inFlightCount.get(path) ?? 0) + 1);
    let answer: Response;
    let body: Buffer;
    try {
      const headers: Record<string, string> = {};
      for (const h of ['authorization', 'content-type', 'accept']) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      answer = await fetch(`${this.target}${path}`, {
        method,
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
        signal: controller.signal,
      });
      body = Buffer.from(await answer.arrayBuffer());
    } catch {
      this.seen.push({ method, path, outcome: 'relay-down' });
      res.socket?.destroy();
      return;
    } finally {
      this.upstream.delete(controller);
      this.inFlightCount.set(path, (this.inFlightCount.get(path) ?? 1) - 1);
    }
    if (rule?.fault === 'lose-answer') {
      this.seen.push({ method, path, outcome: 'lose-answer' });
      res.socket?.destroy();
      return;
    }
    this.seen.push({ method, path, outcome: answer.status });
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'retry-after']) {
      const v = answer.headers.get(h);
      if (v !== null) headers[h] = v;
    }
    res.writeHead(answer.status, headers);
    res.end(body);
  }

  async stop(): Promise<void> {
    for (const c of this.upstream) c.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

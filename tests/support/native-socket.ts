import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * A stand-in for Claude Code's messaging socket (2.1.332 as tried): a real Unix socket that reads JSON lines,
 * answers nothing, and ends the connection once the writer has half-closed. It checks the auth line against
 * its token and records each post. Nothing here registers a cleanup (the bench imports it outside vitest).
 *
 * Modes: `accept` (as Claude Code does), `hold` (reads, but ends a connection only once `release()` is
 * called: a post still being read), `drop` (closes each connection before reading it, so the writer sees
 * its post refused).
 */
export interface Posted {
  readonly text: string;
  /** When the post's line was read: a monotonic clock in ms (process.hrtime, as the bench's monoMs). */
  readonly atMs: number;
}

export class FakeMessagingSocket {
  readonly posts: Posted[] = [];
  /** Connections whose first line was not `{"type":"auth","token":<token>}`. */
  badAuth = 0;
  private mode: 'accept' | 'hold' | 'drop' = 'accept';
  private held: net.Socket[] = [];

  private constructor(
    private readonly server: net.Server,
    readonly socket: string,
    readonly token: string,
  ) {}

  static async start(dir: string, token = 'test-token'): Promise<FakeMessagingSocket> {
    const file = path.join(dir, 'cc.sock');
    let fake: FakeMessagingSocket | undefined;
    const server = net.createServer({ allowHalfOpen: true }, (c) => fake?.connection(c));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, resolve);
    });
    fake = new FakeMessagingSocket(server, file, token);
    return fake;
  }

  /** The variables Claude Code gives the processes of its session. */
  get env(): Record<string, string> {
    return { CLAUDE_CODE_MESSAGING_SOCKET: this.socket, CLAUDE_CODE_MESSAGING_TOKEN: this.token };
  }

  set(mode: 'accept' | 'hold' | 'drop'): void {
    this.mode = mode;
  }

  /** Ends the connections held in `hold` mode, and accepts from now on. */
  release(): void {
    this.mode = 'accept';
    for (const c of this.held.splice(0)) c.end();
  }

  private connection(c: net.Socket): void {
    if (this.mode === 'drop') {
      c.destroy();
      return;
    }
    let buffer = '';
    let authed = false;
    c.on('error', () => {});
    c.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const frame = JSON.parse(line) as { type?: string; token?: string; message?: { content?: string } };
        if (!authed) {
          authed = frame.type === 'auth' && frame.token === this.token;
          if (!authed) {
            this.badAuth++;
            c.destroy();
            return;
          }
        } else if (frame.type === 'user' && typeof frame.message?.content === 'string') {
          this.posts.push({ text: frame.message.content, atMs: Number(process.hrtime.bigint()) / 1e6 });
        }
      }
    });
    c.on('end', () => {
      if (this.mode === 'hold') this.held.push(c);
      else c.end();
    });
  }

  /** Stops listening and removes the socket file: a session that went away. */
  async close(): Promise<void> {
    for (const c of this.held.splice(0)) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await fs.rm(this.socket, { force: true });
  }
}

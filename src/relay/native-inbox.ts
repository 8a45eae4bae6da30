/**
 * Claude Code's native inbox (2.1.224 and later): every process a session starts, its MCP servers included,
 * gets a Unix socket of that session and a token. A connection that writes `{"type":"auth","token":…}` and
 * then `{"type":"user","message":{"role":"user","content":…}}`, one JSON object a line, has the content put
 * in front of the model: between tool calls, or as a new turn when the session is idle.
 *
 * The socket answers nothing, neither to the auth line nor to a post (tried with 2.1.332). What tells a
 * post accepted from refused is how the connection ends: once we half-close, Claude Code reads our lines and
 * ends its side cleanly; a line past its limit (1 MiB) makes it drop the connection (ECONNRESET), and a
 * socket that is gone refuses the connect (ENOENT, ECONNREFUSED). Claude Code keeps an accepted post in
 * memory and acknowledges nothing more, so "accepted" means handed to the client, not seen by the model.
 */
import net from 'node:net';

export const NATIVE_SOCKET_ENV = 'CLAUDE_CODE_MESSAGING_SOCKET';
export const NATIVE_TOKEN_ENV = 'CLAUDE_CODE_MESSAGING_TOKEN';
/** Claude Code drops a connection whose line passes this many characters. */
export const NATIVE_LINE_MAX = 1_048_576;
const POST_TIMEOUT_MS = 5000;

export interface NativeInbox {
  readonly socket: string;
  readonly token: string;
}

/** The session's native inbox, when the client gave this process one (both variables set). */
export function nativeInboxFromEnv(env: NodeJS.ProcessEnv = process.env): NativeInbox | undefined {
  const socket = env[NATIVE_SOCKET_ENV];
  const token = env[NATIVE_TOKEN_ENV];
  if (!socket || !token) return undefined;
  return { socket, token };
}

/** The two lines of one post. */
export function nativePostLines(token: string, text: string): string {
  const auth = JSON.stringify({ type: 'auth', token });
  const post = JSON.stringify({ type: 'user', message: { role: 'user', content: text } });
  return `${auth}\n${post}\n`;
}

/**
 * Posts `text` and resolves once Claude Code has read it and ended the connection without error; rejects
 * (with a sentence saying why) when the socket is missing, refused the post, or did not end in time.
 */
export function postNative(inbox: NativeInbox, text: string, timeoutMs = POST_TIMEOUT_MS): Promise<void> {
  const lines = nativePostLines(inbox.token, text);
  const longest = Math.max(...lines.split('\n').map((l) => l.length));
  if (longest > NATIVE_LINE_MAX)
    return Promise.reject(new Error(`a post of ${longest} characters is past the socket's line limit`));
  return new Promise((resolve, reject) => {
    let failure: Error | undefined;
    let ended = false;
    const socket = net.createConnection(inbox.socket);
    const timer = setTimeout(() => {
      failure ??= new Error(`${inbox.socket} did not end the connection within ${timeoutMs} ms`);
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    socket.on('connect', () => {
      socket.end(lines);
    });
    // Anything it says is unexpected: the socket has no answers, only the way it closes.
    socket.on('data', () => {});
    socket.on('end', () => {
      ended = true;
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      failure ??= new Error(`${inbox.socket}: ${e.code ?? e.message}`);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else if (!ended) reject(new Error(`${inbox.socket} closed without reading the post`));
      else resolve();
    });
  });
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A fresh secret for one run of the dashboard: it is the only thing that lets a request in. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The token from `?t=` or `Authorization: Bearer`, compared in constant time. */
export function hasToken(req: IncomingMessage, url: URL, token: string): boolean {
  const auth = req.headers.authorization;
  const given = url.searchParams.get('t') ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/**
 * Only the names this server listens as: a page of another site that rebinds its own host name to
 * 127.0.0.1 sends its own Host header, and is refused even before the token is checked.
 */
export function isOwnHost(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host;
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { z } from 'zod';
import { HttpError } from './errors.js';

/** Small helpers for the server's edge: read a bounded JSON body, parse it with zod, answer JSON. */

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, e: HttpError): void {
  const headers: Record<string, string> = {};
  if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
  // A refused upload may still be arriving: close the connection once the answer is out.
  if (e.status === 413) headers.connection = 'close';
  sendJson(
    res,
    e.status,
    {
      error: {
        code: e.code,
        message: e.message,
        ...(e.retryAfter === undefined ? {} : { retryAfter: e.retryAfter }),
      },
    },
    headers,
  );
}

function tooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    'too_large',
    `The request is over the ${limit}-byte limit of this endpoint; send a shorter message.`,
  );
}

/** Reads the whole body, refusing (413) as soon as it passes `limit` bytes, before reading the rest. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(
      415,
      'bad_content_type',
      'Send the body as JSON with Content-Type: application/json.',
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Parses JSON with a schema; a failure is a 400 whose sentence names the first wrong field. */
export function parseBody<T extends z.ZodType>(raw: Buffer, schema: T): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(
      400,
      'bad_json',
      'The request body is not valid JSON; send a JSON object as spec/remote.md shows.',
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `\`${issue.path.join('.')}\`` : 'the body';
    const what = (issue?.message ?? 'is invalid').replace(/[.\s]+$/, '');
    throw new HttpError(
      400,
      'bad_body',
      `In the request body, ${where}: ${what}; fix it as spec/remote.md shows.`,
    );
  }
  return parsed.data;
}

/**
 * The answer to a request Node's HTTP parser refused before the relay saw it (`clientError`): a header or
 * URL past the size limit (431), a request line that is not HTTP (400), a request too slow to arrive (408).
 * One sentence, like the relay's own refusals, then the connection is closed.
 */
export function refuseUnparsed(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'Request Header Fields Too Large',
          'too_large',
          'The request line or headers are over the 16 KB limit; send a shorter URL and fewer or shorter headers.',
        ]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'timeout', 'The request took too long to arrive; send it again in one go.']
        : [
            400,
            'Bad Request',
            'bad_request',
            'The request is not valid HTTP/1.1; send a request as spec/remote.md shows.',
          ];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
}

import { RelayError } from '../errors.js';

/**
 * A refusal the relay server answers with: an HTTP status, a stable code, and one sentence that says what to
 * do. Nothing in `message` ever quotes a request header, so an API key cannot leak into an answer or a log.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfter?: number;

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { retryAfter?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    if (options?.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

export function isHttpError(e: unknown): e is HttpError {
  return e instanceof HttpError;
}

/** The storage engine did not answer (NATS down or restarting): the client should retry. */
export function backendUnavailable(detail: string, cause?: unknown): HttpError {
  return new HttpError(
    503,
    'backend_unavailable',
    `The relay's storage is unavailable (${detail}); retry in a few seconds.`,
    { retryAfter: 2, cause },
  );
}

/**
 * What the client gets when a relay call fails. `retryable` says whether the same call can succeed later
 * unchanged (network errors, 5xx, 429); `status` is absent when no HTTP answer arrived at all.
 */
export class RemoteError extends RelayError {
  readonly status?: number;
  readonly retryable: boolean;
  readonly remoteCode?: string;

  constructor(
    message: string,
    options: {
      status?: number;
      retryable: boolean;
      remoteCode?: string;
      retryAfter?: number;
      cause?: unknown;
    },
  ) {
    super(
      options.status === undefined || options.retryable ? 'remote_unavailable' : 'remote_refused',
      message,
      {
        ...(options.cause === undefined ? {} : { cause: options.cause }),
        ...(options.retryAfter === undefined ? {} : { retryAfter: options.retryAfter }),
      },
    );
    this.name = 'RemoteError';
    if (options.status !== undefined) this.status = options.status;
    if (options.remoteCode !== undefined) this.remoteCode = options.remoteCode;
    this.retryable = options.retryable;
  }
}

export function isRemoteError(e: unknown): e is RemoteError {
  return e instanceof RemoteError;
}

/** A key the relay does not hold: never issued, or revoked (also while its request was waiting). */
export function badKey(): HttpError {
  return new HttpError(
    401,
    'bad_key',
    'The API key is wrong or was revoked; ask the relay operator for a new one.',
  );
}

/**
 * Errors that reach a user or a model. Each carries a stable `code` so callers branch on codes, never on
 * message text, and a message that says what was wrong and what to do next, in one sentence.
 */
export type RelayErrorCode =
  | 'bad_name'
  | 'bad_input'
  | 'too_large'
  | 'rate_limited'
  | 'unknown_session'
  | 'store_unwritable'
  | 'disk_full'
  | 'outside_root'
  | 'corrupt_event'
  | 'remote_unavailable'
  | 'remote_refused';

export class RelayError extends Error {
  readonly code: RelayErrorCode;
  /** Seconds after which a retry can succeed (rate limit). */
  readonly retryAfter?: number;

  constructor(code: RelayErrorCode, message: string, options?: { cause?: unknown; retryAfter?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RelayError';
    this.code = code;
    if (options?.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

export function isRelayError(e: unknown): e is RelayError {
  return e instanceof RelayError;
}

/** Shortens a user-supplied value for an error message, so a 1 MB argument cannot flood a model. */
export function shorten(value: string, max = 40): string {
  const oneLine = JSON.stringify(value);
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 2)}…"`;
}

/** Turns a Node file-system error into a RelayError that says what to do. */
export function fsError(e: unknown, doing: string, where: string): RelayError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new RelayError(
      'disk_full',
      `The disk holding ${where} is full while ${doing}; free some space and try again (nothing was lost).`,
      { cause: e },
    );
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new RelayError(
      'store_unwritable',
      `Cannot write to ${where} (${code}) while ${doing}; fix its permissions or set RELAY_HOME to a writable directory.`,
      { cause: e },
    );
  }
  const detail = e instanceof Error ? e.message : String(e);
  return new RelayError(
    'store_unwritable',
    `The relay store at ${where} failed while ${doing} (${detail}); check the directory, then try again.`,
    { cause: e },
  );
}

import type { z } from 'zod';
import { RemoteError } from './errors.js';
import {
  AckAnswerSchema,
  ErrorAnswerSchema,
  type Health,
  HealthSchema,
  type HeartbeatBody,
  type LeasedMessage,
  PollAnswerSchema,
  type PollBody,
  type Presence,
  SESSION_PATH,
  type SendAnswer,
  SendAnswerSchema,
  type SendBody,
  SessionsAnswerSchema,
  safeJson,
} from './protocol.js';

export interface RemoteClientOptions {
  /** The relay's base URL, e.g. `https://relay.example.com/relay` (a path prefix is kept). */
  readonly url: string;
  readonly apiKey: string;
  /** Per request, on top of any long-poll wait. */
  readonly timeoutMs?: number;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * The client of the relay's HTTP API. Knows the wire and nothing of the local log. Every answer is parsed
 * with the protocol's schemas; every failure is a RemoteError that says whether retrying can help. The key
 * goes in the Authorization header and nowhere else: it is never part of a URL, an error or a log line.
 */
export class RemoteClient {
  private readonly base: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  /** `origin + path` without any user:password part, for messages. */
  readonly shownUrl: string;

  constructor(options: RemoteClientOptions) {
    const url = new URL(options.url);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    this.base = url.toString().replace(/\/+$/, '');
    this.shownUrl = this.base;
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  health(timeoutMs?: number): Promise<Health> {
    return this.call('GET', '/health', undefined, HealthSchema, {
      timeoutMs,
      auth: false,
      okStatuses: [503],
    });
  }

  /** Sends to `machine:name`, or with `machine` undefined to the one live session named `name`. */
  send(machine: string | undefined, name: string, body: SendBody, timeoutMs?: number): Promise<SendAnswer> {
    const path =
      machine === undefined
        ? `/v1/names/${encodeURIComponent(name)}/messages`
        : `${SESSION_PATH(machine, name)}/messages`;
    return this.call('POST', path, body, SendAnswerSchema, { timeoutMs });
  }

  async poll(machine: string, name: string, body: PollBody, signal?: AbortSignal): Promise<LeasedMessage[]> {
    const timeoutMs = this.timeoutMs + (body.wait ?? 0) * 1000;
    const answer = await this.call('POST', `${SESSION_PATH(machine, name)}/poll`, body, PollAnswerSchema, {
      timeoutMs,
      signal,
    });
    return answer.messages;
  }

  async ack(machine: string, name: string, acks: readonly string[]): Promise<number> {
    const answer = await this.call('POST', `${SESSION_PATH(machine, name)}/ack`, { acks }, AckAnswerSchema);
    return answer.acked;
  }

  async heartbeat(machine: string, name: string, body: HeartbeatBody, timeoutMs?: number): Promise<void> {
    await this.call('PUT', SESSION_PATH(machine, name), body, undefined, { timeoutMs });
  }

  async leave(machine: string, name: string, instance: string, timeoutMs?: number): Promise<void> {
    await this.call(
      'DELETE',
      `${SESSION_PATH(machine, name)}/${encodeURIComponent(instance)}`,
      undefined,
      undefined,
      {
        timeoutMs,
      },
    );
  }

  async sessions(timeoutMs?: number): Promise<Presence[]> {
    return (await this.call('GET', '/v1/sessions', undefined, SessionsAnswerSchema, { timeoutMs })).sessions;
  }

  private async call<T extends z.ZodType>(
    method: string,
    path: string,
    body: unknown,
    schema: T | undefined,
    options: {
      timeoutMs?: number | undefined;
      auth?: boolean;
      okStatuses?: number[];
      signal?: AbortSignal | undefined;
    } = {},
  ): Promise<z.infer<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.auth !== false) headers.authorization = `Bearer ${this.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
      });
    } catch (e) {
      const why = timeout.aborted ? 'it did not answer in time' : networkReason(e);
      throw new RemoteError(`The relay at ${this.shownUrl} is unreachable (${why}).`, {
        retryable: true,
        cause: e,
      });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new RemoteError(`The relay at ${this.shownUrl} broke off its answer; it is retried.`, {
        retryable: true,
        cause: e,
      });
    }
    if (!res.ok && !(options.okStatuses ?? []).includes(res.status)) throw this.refusal(res, text);
    if (schema === undefined) return undefined as z.infer<T>;
    const parsed = schema.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new RemoteError(
        `The relay at ${this.shownUrl} gave an answer this client cannot read (HTTP ${res.status}); check that RELAY_REMOTE_URL points at a claude-relay relay of the same version.`,
        { status: res.status, retryable: false },
      );
    }
    return parsed.data;
  }

  private refusal(res: Response, text: string): RemoteError {
    const parsed = ErrorAnswerSchema.safeParse(safeJson(text));
    const header = Number(res.headers.get('retry-after'));
    const retryAfter = Number.isFinite(header) && header > 0 ? header : parsed.data?.error.retryAfter;
    const message = parsed.success
      ? `The relay refused (${res.status}): ${parsed.data.error.message}`
      : `The relay at ${this.shownUrl} answered HTTP ${res.status}; check RELAY_REMOTE_URL.`;
    return new RemoteError(message, {
      status: res.status,
      retryable: RETRYABLE.has(res.status),
      ...(parsed.success ? { remoteCode: parsed.data.error.code } : {}),
      ...(retryAfter === undefined ? {} : { retryAfter }),
    });
  }
}

function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code ?? (e instanceof Error ? e.message : 'network error');
}

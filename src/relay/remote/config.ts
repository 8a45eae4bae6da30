import { RelayError } from '../../errors.js';
import { positiveInt } from '../env.js';

/** How a `serve` process reaches the remote relay (from RELAY_REMOTE_URL and RELAY_API_KEY). */
export interface RemoteConfig {
  readonly url: string;
  /** Sent in the Authorization header only: never printed, logged or written to the store. */
  readonly apiKey: string;
  /** The longest wait between two retries of the outbox or of the inbound poll. */
  readonly retryMaxMs: number;
  /** One request's time limit, and how long a send waits for its first attempt before answering "queued". */
  readonly timeoutMs: number;
}

export const RETRY_MAX_MS = 30_000;
export const REMOTE_TIMEOUT_MS = 5_000;

/** The remote relay settings, or undefined when RELAY_REMOTE_URL is not set. */
export function remoteFromEnv(env: NodeJS.ProcessEnv): RemoteConfig | undefined {
  const url = env.RELAY_REMOTE_URL;
  if (url === undefined || url === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RelayError(
      'bad_input',
      `RELAY_REMOTE_URL must be a URL like https://relay.example.com, got ${JSON.stringify(url.slice(0, 60))}.`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RelayError(
      'bad_input',
      `RELAY_REMOTE_URL must start with https:// (or http:// on a trusted network).`,
    );
  }
  const apiKey = env.RELAY_API_KEY;
  if (apiKey === undefined || apiKey.trim() === '') {
    throw new RelayError(
      'bad_input',
      'RELAY_REMOTE_URL is set but RELAY_API_KEY is not; set the key the relay operator gave you for this machine.',
    );
  }
  return {
    url,
    apiKey: apiKey.trim(),
    retryMaxMs: positiveInt(env, 'RELAY_REMOTE_RETRY_MAX_MS', RETRY_MAX_MS, ' of milliseconds'),
    timeoutMs: positiveInt(env, 'RELAY_REMOTE_TIMEOUT_MS', REMOTE_TIMEOUT_MS, ' of milliseconds'),
  };
}

import type { KeyStore } from './keys.js';
import type { HeartbeatBody, LeasedMessage, Presence, StoredMessage } from './protocol.js';
import type { RateLimit } from './rate.js';

export type { StoredMessage } from './protocol.js';

export interface PollRequest {
  readonly max: number;
  /** How long to wait for a first message when none is waiting; 0 answers at once. */
  readonly waitMs: number;
  /** Aborted when the HTTP client went away: messages taken after that are given back at once. */
  readonly signal?: AbortSignal;
  /**
   * Asked once messages were taken, before they are handed out: false (the caller's key was revoked while
   * it waited) gives them back at once and answers none.
   */
  readonly admit?: () => Promise<boolean>;
}

export interface BackendHealth {
  readonly ok: boolean;
  readonly detail?: string;
}

/**
 * Where a relay server keeps messages and presence. Both implementations pass the same contract suite
 * (tests/remote/contract.ts). Exactly-once is shared with the client: a poll *leases* messages, the client
 * stores them durably under their key (a second copy of a key is dropped there), then acks them; a lease
 * that is never acked runs out and the message is handed out again.
 */
export interface Backend {
  readonly kind: 'embedded' | 'nats';
  health(): Promise<BackendHealth>;
  /** Stores a message; `duplicate` when this key was stored before (the retry of a send whose answer was lost). */
  send(message: StoredMessage): Promise<{ duplicate: boolean }>;
  /** Whether `machine:name` ever heartbeated here: sends to a name nobody ever used are refused. */
  known(machine: string, name: string): Promise<boolean>;
  /** Whether `machine:name` has a live session now. */
  live(machine: string, name: string): Promise<boolean>;
  /** The live sessions of every machine. */
  sessions(): Promise<Presence[]>;
  heartbeat(machine: string, name: string, beat: HeartbeatBody): Promise<void>;
  leave(machine: string, name: string, instance: string): Promise<void>;
  /** Leases up to `max` waiting messages of `machine:name`, oldest first. */
  poll(machine: string, name: string, request: PollRequest): Promise<LeasedMessage[]>;
  /** Settles leased messages for good; resolves how many tokens were accepted. */
  ack(machine: string, name: string, tokens: readonly string[]): Promise<number>;
  close(): Promise<void>;
  /**
   * The API keys and per-key request limit that every relay on this storage shares (NATS); absent, a relay
   * keeps its own: `keys.json` in its data directory and a limit in memory.
   */
  shared?(rateLimit: number): { keys: KeyStore; rate: RateLimit };
}

export interface BackendOptions {
  /** A session is live while its last heartbeat is younger than this. */
  readonly liveWindowMs: number;
  /** How long a polled, unacked message stays leased before it is handed out again. */
  readonly leaseMs: number;
  readonly now?: () => number;
}

/** The most a poll answer carries in bodies (at least one message is always given). */
export const LEASE_MAX_BYTES = 2_000_000;

import {
  type Consumer,
  JetStreamApiCodes,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import type { Backend, BackendHealth, BackendOptions, PollRequest, StoredMessage } from '../backend.js';
import { metaOf } from '../convert.js';
import { backendUnavailable, HttpError, isHttpError } from '../errors.js';
import type { KeyStore } from '../keys.js';
import type { HeartbeatBody, LeasedMessage, Presence } from '../protocol.js';
import type { RateLimit } from '../rate.js';
import { NatsKeys } from './nats-keys.js';
import { META_HEADER, NatsNames } from './nats-names.js';
import { leased, take } from './nats-poll.js';
import { NatsPresence } from './nats-presence.js';
import { NatsRate } from './nats-rate.js';
import { consumerConfig, ensureStream, isApi } from './nats-stream.js';

export { NATS_PREFIX_PATTERN } from './nats-names.js';

export interface NatsBackendOptions extends BackendOptions {
  readonly url: string;
  /** Names the stream (`<prefix>_MSGS`), its subjects (`<prefix>.in.…`) and the KV bucket (`<prefix>_PRESENCE`). */
  readonly prefix: string;
  /** How long NATS remembers a `Nats-Msg-Id`: a retried send inside it is stored once. */
  readonly duplicateWindowMs?: number;
  /** How long one NATS request may take before the relay answers 503. */
  readonly requestTimeoutMs?: number;
}

const DEFAULT_DUPLICATE_WINDOW_MS = 24 * 60 * 60 * 1000;
const RATE_WINDOW_MS = 60_000;

/**
 * The relay's storage on NATS JetStream, for several relay servers that must behave as one:
 * - messages: one work-queue stream, one subject per session (`<prefix>.in.<machine>.<name>`), published
 *   with `Nats-Msg-Id` = `<machine>:<key>`, so a retried send inside the duplicate window is stored once;
 * - consume: one durable pull consumer per session with explicit acks. A poll *leases* (NATS delivers a
 *   message to one pull at a time, until `ack_wait` runs out); the ack token is the message's reply
 *   subject, so any relay server can ack what another one handed out;
 * - presence: a KV bucket whose TTL is the liveness window (nats-presence.ts);
 * - API keys (hashes) and the per-key request counts: KV buckets every relay shares (nats-keys, nats-rate).
 */
export class NatsBackend implements Backend {
  readonly kind = 'nats' as const;
  private readonly options: NatsBackendOptions;
  private readonly names: NatsNames;
  private readonly timeout: number;
  private readonly now: () => number;
  private nc!: NatsConnection;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private presence: NatsPresence | undefined;
  private keysKv: KV | undefined;
  private rateKv: KV | undefined;
  private ready: Promise<void> | undefined;
  private readonly consumers = new Map<string, Consumer>();
  private connected = false;
  /** Waiting polls, told when the connection drops: their pull requests died with it. */
  private readonly onDisconnect = new Set<() => void>();

  private constructor(options: NatsBackendOptions) {
    this.options = options;
    this.names = new NatsNames(options.prefix);
    this.timeout = options.requestTimeoutMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** Connects (waiting for NATS if it is not up yet) and creates the stream and the bucket if missing. */
  static async open(options: NatsBackendOptions): Promise<NatsBackend> {
    const backend = new NatsBackend(options);
    backend.nc = await connect({
      servers: options.url,
      name: 'claude-relay',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      timeout: backend.timeout,
    });
    backend.connected = true;
    void backend.watchStatus();
    backend.jsm = await jetstreamManager(backend.nc, { timeout: backend.timeout });
    backend.js = jetstream(backend.nc, { timeout: backend.timeout });
    await backend.ensure();
    return backend;
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        for (const tell of this.onDisconnect) tell();
      }
      if (s.type === 'reconnect') {
        this.connected = true;
        // A NATS server that came back without its store has lost the stream: make it again on next use.
        this.ready = undefined;
        this.consumers.clear();
      }
    }
  }

  private ensure(): Promise<void> {
    this.ready ??= this.create().catch((e) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  private async create(): Promise<void> {
    await ensureStream(this.jsm, this.names, this.options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS);
    const kv = await new Kvm(this.nc).create(this.names.bucket, {
      ttl: this.options.liveWindowMs,
      history: 1,
    });
    this.presence = new NatsPresence(kv, this.names, this.options.liveWindowMs, this.now);
    this.keysKv = await new Kvm(this.nc).create(this.names.keysBucket, { history: 1 });
    this.rateKv = await new Kvm(this.nc).create(this.names.rateBucket, {
      ttl: 2 * RATE_WINDOW_MS,
      history: 1,
    });
  }

  shared(rateLimit: number): { keys: KeyStore; rate: RateLimit } {
    const bucket = (which: () => KV | undefined) => () =>
      this.guard('reading API keys', async () => {
        const kv = which();
        if (!kv) throw new Error('the bucket is not open');
        return kv;
      });
    return {
      keys: new NatsKeys(
        bucket(() => this.keysKv),
        `the NATS bucket ${this.names.keysBucket}`,
      ),
      rate: new NatsRate(
        bucket(() => this.rateKv),
        rateLimit,
        RATE_WINDOW_MS,
        this.now,
      ),
    };
  }

  /**
   * How durable the message stream is: its storage and replicas (NATS's own setting; its fsync interval is
   * the server's `sync_interval`, which a client cannot read).
   */
  async durability(): Promise<{ stream: string; storage: string; replicas: number }> {
    const { config } = await this.jsm.streams.info(this.names.stream);
    return { stream: this.names.stream, storage: config.storage, replicas: config.num_replicas };
  }

  /** Runs one NATS operation; a stream or consumer that vanished is made again once, anything else is a 503. */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ensure();
        return await fn();
      } catch (e) {
        if (isHttpError(e)) throw e;
        const vanished =
          isApi(e, JetStreamApiCodes.StreamNotFound) || isApi(e, JetStreamApiCodes.ConsumerNotFound);
        if (vanished && attempt === 0) {
          this.ready = undefined;
          this.consumers.clear();
          continue;
        }
        throw backendUnavailable(`NATS failed while ${what}: ${shortError(e)}`, e);
      }
    }
  }

  private get presences(): NatsPresence {
    if (!this.presence) throw new Error('the presence bucket is not open');
    return this.presence;
  }

  /** The session's durable consumer, made on its first heartbeat or poll; its existence means "known". */
  private async consumer(machine: string, name: string, create: boolean): Promise<Consumer | undefined> {
    const durable = this.names.consumer(machine, name);
    const cached = this.consumers.get(durable);
    if (cached) return cached;
    try {
      await this.jsm.consumers.info(this.names.stream, durable);
    } catch (e) {
      if (!isApi(e, JetStreamApiCodes.ConsumerNotFound)) throw e;
      if (!create) return undefined;
      await this.jsm.consumers.add(
        this.names.stream,
        consumerConfig(this.names, machine, name, this.options.leaseMs),
      );
    }
    const consumer = await this.js.consumers.get(this.names.stream, durable);
    this.consumers.set(durable, consumer);
    return consumer;
  }

  async health(): Promise<BackendHealth> {
    if (!this.connected) return { ok: false, detail: 'not connected to NATS' };
    try {
      await this.ensure();
      await this.jsm.streams.info(this.names.stream);
      return { ok: true };
    } catch (e) {
      return { ok: false, detail: `NATS: ${shortError(e)}` };
    }
  }

  async send(m: StoredMessage): Promise<{ duplicate: boolean }> {
    return this.guard('storing a message', async () => {
      const h = headers();
      h.set(META_HEADER, JSON.stringify(metaOf(m)));
      const subject = this.names.subject(m.toMachine, m.to);
      const ack = await this.js.publish(subject, new TextEncoder().encode(m.body), {
        msgID: `${m.fromMachine}:${m.key}`,
        headers: h,
        timeout: this.timeout,
      });
      return { duplicate: ack.duplicate };
    });
  }

  async known(machine: string, name: string): Promise<boolean> {
    return this.guard(
      'looking up a session',
      async () => (await this.consumer(machine, name, false)) !== undefined,
    );
  }

  async heartbeat(machine: string, name: string, beat: HeartbeatBody): Promise<void> {
    await this.guard('recording a heartbeat', async () => {
      await this.consumer(machine, name, true);
      await this.presences.put(machine, name, beat);
    });
  }

  async leave(machine: string, name: string, instance: string): Promise<void> {
    await this.guard('recording a leave', () => this.presences.leave(machine, name, instance));
  }

  async live(machine: string, name: string): Promise<boolean> {
    return this.guard('looking up a session', () => this.presences.live(machine, name));
  }

  async sessions(): Promise<Presence[]> {
    return this.guard('listing sessions', () => this.presences.list());
  }

  async poll(machine: string, name: string, request: PollRequest): Promise<LeasedMessage[]> {
    const msgs = await this.guard('polling', async () => {
      const consumer = await this.consumer(machine, name, true);
      if (!consumer) return [];
      return take(consumer, request, this.onDisconnect);
    });
    const refused = msgs.length > 0 && request.admit !== undefined && !(await request.admit());
    if (refused || request.signal?.aborted) {
      // Nobody will read this answer: hand the messages back now rather than after the lease.
      for (const m of msgs) m.nak();
      return [];
    }
    return leased(msgs, name, this.now());
  }

  async ack(machine: string, name: string, tokens: readonly string[]): Promise<number> {
    for (const t of tokens) {
      if (!this.names.isAckFor(t, machine, name)) {
        throw new HttpError(
          400,
          'bad_ack',
          `The ack token ${JSON.stringify(t.slice(0, 40))} is not one this relay gave out for ${machine}:${name}; send back the \`ack\` of a polled message.`,
        );
      }
    }
    return this.guard('acking', async () => {
      // An ack is a request to the message's reply subject; the answer confirms JetStream recorded it.
      for (const t of tokens) await this.nc.request(t, '+ACK', { timeout: this.timeout });
      return tokens.length;
    });
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }

  /** Test and admin helper: removes the stream, its consumers and the bucket. */
  async destroy(): Promise<void> {
    await this.jsm.streams.delete(this.names.stream).catch(() => {});
    for (const bucket of [this.names.bucket, this.names.keysBucket, this.names.rateBucket]) {
      await this.jsm.streams.delete(`KV_${bucket}`).catch(() => {});
    }
  }
}

function shortError(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

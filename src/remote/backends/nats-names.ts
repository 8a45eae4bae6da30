import { createHash } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';

/**
 * How the NATS backend names things: one prefix names the stream, its subjects and the KV bucket, so one NATS
 * can hold several independent relays. Session and machine names may hold `.`, which splits NATS subjects
 * and KV keys into tokens: it is written `=`, which no name contains.
 */
export const NATS_PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export const META_HEADER = 'Relay-Meta';

function token(name: string): string {
  return name.replace(/\./g, '=');
}

export const nanos = (ms: number) => ms * 1_000_000;

export class NatsNames {
  readonly stream: string;
  readonly bucket: string;
  readonly keysBucket: string;
  readonly rateBucket: string;

  constructor(readonly prefix: string) {
    if (!NATS_PREFIX_PATTERN.test(prefix)) {
      throw new Error(`The NATS prefix ${JSON.stringify(prefix)} must be 1-32 letters, digits, _ or -.`);
    }
    this.stream = `${prefix}_MSGS`;
    this.bucket = `${prefix}_PRESENCE`;
    this.keysBucket = `${prefix}_KEYS`;
    this.rateBucket = `${prefix}_RATE`;
  }

  /** Every inbox's subject is under this. */
  get subjects(): string {
    return `${this.prefix}.in.>`;
  }

  subject(machine: string, name: string): string {
    return `${this.prefix}.in.${token(machine)}.${token(name)}`;
  }

  /** Durable names cannot hold `.` and are bounded; a hash of the address is both safe and stable. */
  consumer(machine: string, name: string): string {
    return `in_${createHash('sha256').update(`${machine}:${name}`).digest('hex').slice(0, 40)}`;
  }

  presenceKey(machine: string, name: string): string {
    return `${token(machine)}.${token(name)}`;
  }

  /**
   * Whether an ack token is the reply subject of a message of this inbox's consumer:
   * `$JS.ACK.<stream>.<consumer>.<n>…`, or with a domain and an account hash before the stream.
   */
  isAckFor(ack: string, machine: string, name: string): boolean {
    const parts = ack.split('.');
    if (parts[0] !== '$JS' || parts[1] !== 'ACK') return false;
    if (!parts.slice(2).every((p) => /^[A-Za-z0-9_=-]+$/.test(p))) return false;
    const consumer = this.consumer(machine, name);
    if (parts.length === 9) return parts[2] === this.stream && parts[3] === consumer;
    return parts.length >= 11 && parts[4] === this.stream && parts[5] === consumer;
  }
}

/** The `$JS.ACK…` subject of a delivered message (the client's JsMsg has it, its type does not say so). */
export function replyOf(m: JsMsg): string | undefined {
  const reply = (m as unknown as { reply?: unknown }).reply;
  return typeof reply === 'string' && reply.startsWith('$JS.ACK.') ? reply : undefined;
}

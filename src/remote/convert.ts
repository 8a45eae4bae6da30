import type { HeartbeatEvent, OutboxEvent, SentEvent } from '../log/events.js';
import type { LeasedMessage, Presence, StoredMessage, StoredMeta, WireMessage } from './protocol.js';
import { scopedKey } from './scoped.js';

/**
 * Every conversion a message or a presence goes through between machines, in one place. A message is a
 * `WireMessage` on its whole way (protocol.ts); it is only narrowed or extended:
 *   outbox entry → wire message (the send body) → stored message (+ where to) → the relay's copy (a `sent`
 *   event in the embedded store, or a NATS header and payload) → leased message (+ ack) → `sent` event.
 * A presence is made from a heartbeat by `presenceOf` and nowhere else. All of it is pure.
 */

/** An outbox entry as the send body that carries it to the relay. */
export function wireOf(entry: OutboxEvent): WireMessage {
  return {
    key: entry.key,
    id: entry.id,
    from: entry.from,
    fromMachine: entry.machine,
    type: entry.type,
    body: entry.body,
    ...(entry.replyTo === undefined ? {} : { replyTo: entry.replyTo }),
    sentAt: entry.sentAt,
    ttlMs: entry.ttlMs,
    ...(entry.by === undefined ? {} : { by: entry.by }),
  };
}

/** A wire message with where the relay is to put it. */
export function storedOf(m: WireMessage, toMachine: string, to: string): StoredMessage {
  return { ...wireFields(m), toMachine, to };
}

/** A message handed to a poller, with the token that acks it. */
export function leasedOf(m: WireMessage, to: string, ack: string): LeasedMessage {
  return { ...wireFields(m), to, ack };
}

/** A stored message's header for NATS, in the order the fields were always written. */
export function metaOf(m: StoredMessage): StoredMeta {
  return {
    key: m.key,
    id: m.id,
    from: m.from,
    fromMachine: m.fromMachine,
    to: m.to,
    type: m.type,
    ...(m.replyTo === undefined ? {} : { replyTo: m.replyTo }),
    sentAt: m.sentAt,
    ttlMs: m.ttlMs,
    ...(m.by === undefined ? {} : { by: m.by }),
  };
}

/** A NATS message (header and payload) handed to a poller. */
export function leasedOfMeta(meta: StoredMeta, body: string, ack: string): LeasedMessage {
  return leasedOf({ ...meta, body }, meta.to, ack);
}

/** A `sent` event read back from the relay's own store, as the wire message it was stored from. */
export function wireOfSent(event: SentEvent): WireMessage {
  return {
    key: event.remoteKey ?? event.key,
    id: event.id,
    from: event.from,
    fromMachine: event.origin ?? event.machine,
    type: event.type,
    body: event.body,
    ...(event.replyTo === undefined ? {} : { replyTo: event.replyTo }),
    sentAt: event.sentAt,
    ttlMs: event.ttlMs,
    ...(event.by === undefined ? {} : { by: event.by }),
  };
}

/**
 * The `sent` event of a message that came from another machine, under a key scoped by that machine (its
 * stamp is the original key's start), with the sender's machine as origin and its key as `remoteKey`: one
 * shape for the relay's store and the recipient's.
 */
export function sentEventOf(m: WireMessage, to: string): SentEvent & { origin: string; remoteKey: string } {
  return {
    v: 1,
    kind: 'sent',
    key: scopedKey(m.fromMachine, m.key),
    remoteKey: m.key,
    id: m.id,
    at: m.key.slice(0, 22),
    sentAt: m.sentAt,
    from: m.from,
    machine: m.fromMachine,
    origin: m.fromMachine,
    to,
    type: m.type,
    body: m.body,
    ...(m.replyTo === undefined ? {} : { replyTo: m.replyTo }),
    ttlMs: m.ttlMs,
    ...(m.by === undefined ? {} : { by: m.by }),
  };
}

/** What the sender's own `relay_send` answers with for an outbox entry: the message as it sent it. */
export function sentOfOutbox(entry: OutboxEvent): SentEvent {
  const { toMachine: _toMachine, kind: _kind, ...rest } = entry;
  return { ...rest, kind: 'sent' };
}

/** The heartbeat fields a presence is made of, and when it was last heard of. */
export type PresenceSource = Pick<
  HeartbeatEvent,
  'machine' | 'name' | 'instance' | 'pid' | 'cwd' | 'startedAt' | 'atMs' | 'client'
>;

/** The one heartbeat → presence mapping: the relay's backends, `status` and `relay_sessions` share it. */
export function presenceOf(beat: PresenceSource): Presence {
  return {
    machine: beat.machine,
    name: beat.name,
    instance: beat.instance,
    pid: beat.pid,
    cwd: beat.cwd,
    startedAt: beat.startedAt,
    lastSeen: beat.atMs,
    ...(beat.client === undefined ? {} : { client: beat.client }),
  };
}

/** Only a wire message's own fields: a stored or leased message passed in as one keeps none of its extras. */
function wireFields(m: WireMessage): WireMessage {
  return {
    key: m.key,
    id: m.id,
    from: m.from,
    fromMachine: m.fromMachine,
    type: m.type,
    body: m.body,
    ...(m.replyTo === undefined ? {} : { replyTo: m.replyTo }),
    sentAt: m.sentAt,
    ttlMs: m.ttlMs,
    ...(m.by === undefined ? {} : { by: m.by }),
  };
}

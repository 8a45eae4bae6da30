import * as z from 'zod';
import { STAMP_PATTERN } from './clock.js';
import { MAX_BODY_BYTES } from './confined.js';
import { isValidName, NAME_PATTERN } from './names.js';

/**
 * One zod schema per event kind: the event format in code. `spec/events.md` shows each with an example.
 * `v` is the format version; a reader skips (and reports) a version it does not know rather than guess.
 */
export const FORMAT_VERSION = 1;

const name = z.string().regex(NAME_PATTERN).refine(isValidName, 'not a valid name (a Windows device name?)');
const stamp = z.string().regex(STAMP_PATTERN);
/** `<stamp>-<id>`: unique per message, and its file name in every area. */
export const KEY_PATTERN = /^\d{13}-\d{8}-[a-z0-9]{6}$/;
const key = z.string().regex(KEY_PATTERN);
/** A message's short id, the one a model sees and names in `reply_to`. */
export const ID_PATTERN = /^[a-z0-9]{6}$/;
const id = z.string().regex(ID_PATTERN);
/** One run of `serve`. */
export const INSTANCE_PATTERN = /^[a-z0-9]{8}$/;
const instance = z.string().regex(INSTANCE_PATTERN);

export const MESSAGE_TYPES = ['request', 'info', 'response'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const DELIVERY_PATHS = ['poll', 'long-poll', 'hook', 'channel', 'native', 'cli'] as const;
export type DeliveryPath = (typeof DELIVERY_PATHS)[number];
/** Paths that hand a message to the client, which acknowledges nothing; the others return it to the model. */
export const HANDED_PATHS: readonly DeliveryPath[] = ['channel', 'native'];

export const SentEventSchema = z.object({
  v: z.literal(FORMAT_VERSION),
  kind: z.literal('sent'),
  key,
  /** The short id a model sees and can name in `reply_to`. */
  id,
  at: stamp,
  sentAt: z.number().int().nonnegative(),
  from: name,
  /** The machine the sender runs on; `origin` is set only for messages that came through a remote relay. */
  machine: name,
  origin: name.optional(),
  to: name,
  type: z.enum(MESSAGE_TYPES),
  // A UTF-8 byte bound is also a bound on UTF-16 length; the send checks the bytes exactly.
  body: z.string().max(MAX_BODY_BYTES),
  replyTo: id.optional(),
  ttlMs: z.number().int().positive(),
  /**
   * Set on a message put back after a cancelled request had taken it (`key` of the original, whose
   * `consumed` event stands but reached nobody): counts then subtract the original from the delivered.
   */
  restoredFrom: key.optional(),
  /**
   * Set on a message that came through a remote relay: the key its sending machine gave it. Its own `key`
   * is scoped by that machine (src/remote/scoped.ts), so no machine's key can take another's place.
   */
  remoteKey: key.optional(),
  /** Set on each copy of one broadcast, so the copies can be told apart from separate sends. */
  broadcast: id.optional(),
  /**
   * `cli`: written by a person at a terminal (`claude-relay send`), whatever name it carries, not by the
   * live session of that name. Absent: sent by a session's own server.
   */
  by: z.literal('cli').optional(),
});
export type SentEvent = z.infer<typeof SentEventSchema>;

const deliveredBy = z.object({
  name,
  machine: name,
  pid: z.number().int().nonnegative(),
  instance: z.string(),
});

export const ConsumedEventSchema = z.object({
  v: z.literal(FORMAT_VERSION),
  kind: z.literal('consumed'),
  key,
  to: name,
  atMs: z.number().int().nonnegative(),
  via: z.enum(DELIVERY_PATHS),
  by: deliveredBy,
  /** The message had been taken before by a taker that died or ran out of time: it may have been seen. */
  again: z.literal(true).optional(),
});
export type ConsumedEvent = z.infer<typeof ConsumedEventSchema>;

export const ExpiredEventSchema = z.object({
  v: z.literal(FORMAT_VERSION),
  kind: z.literal('expired'),
  key,
  to: name,
  atMs: z.number().int().nonnegative(),
  reason: z.literal('ttl'),
});
export type ExpiredEvent = z.infer<typeof ExpiredEventSchema>;

/**
 * Who is answering a message right now: `leases/<to>/<key>.<gen>.json`, created exclusively. A take holds
 * the message while its answer is written out; only then is it `consumed`. A lease whose holder died (its
 * pid is gone on this machine) or ran out is taken over with the next generation, so a message is never
 * lost with its taker. Leases are not fsynced: after a power cut every taker is gone anyway.
 */
export const LeasedEventSchema = z.object({
  v: z.literal(FORMAT_VERSION),
  kind: z.literal('leased'),
  key,
  to: name,
  gen: z.number().int().positive(),
  atMs: z.number().int().nonnegative(),
  untilMs: z.number().int().nonnegative(),
  via: z.enum(DELIVERY_PATHS),
  by: deliveredBy,
});
export type LeasedEvent = z.infer<typeof LeasedEventSchema>;

/** The one event that ends a message's life: exactly one exists per message, created exclusively. */
export type SettledEvent = ConsumedEvent | ExpiredEvent;

export const CLIENT_NAME = z.string().max(200);

export const HeartbeatEventSchema = z.object({
  v: z.literal(FORMAT_VERSION),
  kind: z.literal('heartbeat'),
  name,
  /** One run of `serve`; two windows that ended up with one name still have two instances. */
  instance,
  at: stamp,
  atMs: z.number().int().nonnegative(),
  pid: z.number().int().nonnegative(),
  cwd: z.string(),
  machine: name,
  startedAt: z.number().int().nonnegative(),
  /** The stamp of this instance's first heartbeat: who joined first keeps a contested name. */
  joined: stamp,
  client: CLIENT_NAME.optional(),
  /** The server's ancestor pids, nearest first: how `claude-relay hook` finds the session of its client. */
  ancestors: z.array(z.number().int().positive()).max(16).optional(),
  /** How mail reaches this session by itself (`native` inbox, `channel` push); absent: only when it asks. */
  push: z.enum(['native', 'channel']).optional(),
});
export type HeartbeatEvent = z.infer<typeof HeartbeatEventSchema>;

export const LeftEventSchema = z.object({
  v: z.literal(FORMAT_VERSION),
  kind: z.literal('left'),
  name,
  instance,
  at: stamp,
  atMs: z.number().int().nonnegative(),
  /** `exit` when the server closed cleanly, `stale` when `clean` found it dead. */
  reason: z.enum(['exit', 'stale']),
});
export type LeftEvent = z.infer<typeof LeftEventSchema>;

export type SessionEvent = HeartbeatEvent | LeftEvent;

/**
 * A session instance takes a name: `claims/<name>/<gen>.json`, created exclusively, so of two sessions
 * starting at once under one name exactly one gets each generation. The highest generation holds the name
 * while its instance is live; a newcomer takes over a dead holder's name with the next generation.
 */
export const ClaimedEventSchema = z.object({
  v: z.literal(FORMAT_VERSION),
  kind: z.literal('claimed'),
  name,
  instance,
  gen: z.number().int().positive(),
  atMs: z.number().int().nonnegative(),
});
export type ClaimedEvent = z.infer<typeof ClaimedEventSchema>;

/**
 * A send to a session on another machine, waiting in the sender's outbox (`outbox/<from>/<key>.json`) until
 * the remote relay has it. `key` doubles as the idempotency key: a retry after a lost answer is stored once.
 */
export const OutboxEventSchema = SentEventSchema.omit({ kind: true, origin: true, broadcast: true }).extend({
  kind: z.literal('outbox'),
  /** The recipient's machine; absent when the relay is to find the one live session named `to`. */
  toMachine: name.optional(),
});
export type OutboxEvent = z.infer<typeof OutboxEventSchema>;

/** The outcome of an outbox entry, created exclusively at `forwarded/<from>/<key>.json`; the entry then goes. */
export const ForwardedEventSchema = z.object({
  v: z.literal(FORMAT_VERSION),
  kind: z.literal('forwarded'),
  key,
  from: name,
  atMs: z.number().int().nonnegative(),
  /** Where the relay put it (`machine:name`), or the address asked for when it was refused. */
  to: z.string().max(300),
  /** `delivered`: the relay stored it (or had it already: `duplicate`); `refused`: it never will. */
  outcome: z.enum(['delivered', 'refused']),
  duplicate: z.boolean().optional(),
  reason: z.string().max(1000).optional(),
});
export type ForwardedEvent = z.infer<typeof ForwardedEventSchema>;

export const EventSchema = z.discriminatedUnion('kind', [
  SentEventSchema,
  ConsumedEventSchema,
  ExpiredEventSchema,
  LeasedEventSchema,
  HeartbeatEventSchema,
  LeftEventSchema,
  ClaimedEventSchema,
  OutboxEventSchema,
  ForwardedEventSchema,
]);
export type RelayEvent = z.infer<typeof EventSchema>;

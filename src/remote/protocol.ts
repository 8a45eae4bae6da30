import * as z from 'zod';
import { HeartbeatEventSchema, SentEventSchema } from '../log/events.js';
import { DEFAULT_LIMITS } from '../projections/limits.js';

/**
 * The relay's wire protocol: one zod schema per HTTP body, shared by the server (which parses every request
 * body with them) and the client (which parses every answer). `spec/remote.md` documents the same in prose.
 * A message has one shape, `WireMessageSchema`, picked from the log's `sent` event: every other shape it
 * takes on its way (the send body, the relay's stored copy, a leased message, the NATS header) is that one
 * narrowed or extended, and `convert.ts` holds every conversion between them.
 */
export const API_PREFIX = '/v1';

/** A message body is at most this many UTF-8 bytes, as locally. */
export const MAX_MESSAGE_BYTES = DEFAULT_LIMITS.maxBodyBytes;
/**
 * Largest request the send endpoint reads: a 1,000,000-byte body can grow up to six times as JSON
 * (`\u0001` escapes), and that body must still get through. Other endpoints read at most `MAX_SMALL_REQUEST`.
 */
export const MAX_SEND_REQUEST = 6 * MAX_MESSAGE_BYTES + 64 * 1024;
export const MAX_SMALL_REQUEST = 64 * 1024;
/** The longest a poll may wait for a message, in seconds. */
export const HTTP_WAIT_MAX_SECONDS = 30;
export const MAX_POLL_MESSAGES = 100;

const { from: name, key } = SentEventSchema.shape;
const ms = z.number().int().nonnegative();
const ackToken = z.string().min(1).max(512);

/** A message as it crosses machines: the `sent` event's content, with the sender's machine. */
export const WireMessageSchema = SentEventSchema.pick({
  /** The message's key, `<stamp>-<id>`: also its idempotency key, so a retried send is stored once. */
  key: true,
  id: true,
  from: true,
  type: true,
  body: true,
  replyTo: true,
  sentAt: true,
  ttlMs: true,
  by: true,
}).extend({ fromMachine: name });
export type WireMessage = z.infer<typeof WireMessageSchema>;

/**
 * `POST /v1/sessions/{machine}/{name}/messages` and `POST /v1/names/{name}/messages`: a wire message with a
 * body. `fromMachine` must be the machine the API key belongs to: a machine can send only as itself.
 */
export const SendBodySchema = WireMessageSchema.extend({ body: z.string().min(1) }).strict();
export type SendBody = z.infer<typeof SendBodySchema>;

/** A message as the relay stores it: the wire message plus where it goes. */
export const StoredMessageSchema = WireMessageSchema.extend({ toMachine: name, to: name });
export type StoredMessage = z.infer<typeof StoredMessageSchema>;

/** A stored message without its body: the NATS backend's message header (the body is the payload, byte for byte). */
export const StoredMetaSchema = StoredMessageSchema.omit({ body: true, toMachine: true });
export type StoredMeta = z.infer<typeof StoredMetaSchema>;

export const SendAnswerSchema = z.object({
  /** Where the message went, `machine:name`. */
  to: z.string(),
  key,
  /** Whether the recipient had a live session when the message arrived. */
  live: z.boolean(),
  /** True when the relay already had this key: the earlier attempt had been stored, nothing new was. */
  duplicate: z.boolean(),
});
export type SendAnswer = z.infer<typeof SendAnswerSchema>;

/** `POST /v1/sessions/{machine}/{name}/poll`. */
export const PollBodySchema = z.strictObject({
  /** Seconds to wait for a first message when none is waiting (0: answer at once). */
  wait: z.number().min(0).max(HTTP_WAIT_MAX_SECONDS).optional(),
  max: z.number().int().min(1).max(MAX_POLL_MESSAGES).optional(),
});
export type PollBody = z.infer<typeof PollBodySchema>;

/** A message as a poll hands it out: leased to this poller until acked, or until the lease runs out. */
export const LeasedMessageSchema = WireMessageSchema.extend({
  to: name,
  /** Opaque; give it back to `ack` once the message is safe on the client's side. */
  ack: ackToken,
});
export type LeasedMessage = z.infer<typeof LeasedMessageSchema>;

export const PollAnswerSchema = z.object({ messages: z.array(LeasedMessageSchema) });
export type PollAnswer = z.infer<typeof PollAnswerSchema>;

/** `POST /v1/sessions/{machine}/{name}/ack`. */
export const AckBodySchema = z.strictObject({
  acks: z.array(ackToken).min(1).max(MAX_POLL_MESSAGES),
});
export type AckBody = z.infer<typeof AckBodySchema>;
export const AckAnswerSchema = z.object({ acked: z.number().int().nonnegative() });

/**
 * A live session as `GET /v1/sessions` lists it, and as `status` and `relay_sessions` show one: the
 * heartbeat event's content, with when it was last heard of. `presenceOf` (convert.ts) makes it.
 */
export const PresenceSchema = HeartbeatEventSchema.pick({
  machine: true,
  name: true,
  instance: true,
  pid: true,
  cwd: true,
  startedAt: true,
  client: true,
}).extend({
  /** When it was last heard from (the relay's clock, ms). */
  lastSeen: ms,
});
export type Presence = z.infer<typeof PresenceSchema>;

/** `PUT /v1/sessions/{machine}/{name}`: a heartbeat, the presence of the session the path names. */
export const HeartbeatBodySchema = PresenceSchema.pick({
  instance: true,
  pid: true,
  startedAt: true,
  client: true,
})
  .extend({ cwd: z.string().max(4096) })
  .strict();
export type HeartbeatBody = z.infer<typeof HeartbeatBodySchema>;

/** Parses JSON text that may not be JSON: undefined then, for a schema to refuse. */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const SessionsAnswerSchema = z.object({ sessions: z.array(PresenceSchema) });

/** `GET /health`. */
export const HealthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  backend: z.object({ kind: z.enum(['embedded', 'nats']), ok: z.boolean(), detail: z.string().optional() }),
});
export type Health = z.infer<typeof HealthSchema>;

/** Every refusal: a stable code and one sentence that says what to do. */
export const ErrorAnswerSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), retryAfter: z.number().optional() }),
});

export const SESSION_PATH = (machine: string, session: string) =>
  `${API_PREFIX}/sessions/${encodeURIComponent(machine)}/${encodeURIComponent(session)}`;

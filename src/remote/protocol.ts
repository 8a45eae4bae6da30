import { z } from 'zod';
import { KEY_PATTERN, MESSAGE_TYPES } from '../log/events.js';
import { isValidName, NAME_PATTERN } from '../log/names.js';

/**
 * The relay's wire protocol: one zod schema per HTTP body, shared by the server (which parses every request
 * body with them) and the client (which parses every answer). `spec/remote.md` documents the same in prose.
 */
export const API_PREFIX = '/v1';

/** A message body is at most this many UTF-8 bytes, as locally. */
export const MAX_MESSAGE_BYTES = 1_000_000;
/**
 * Largest request the send endpoint reads: a 1,000,000-byte body can grow up to six times as JSON
 * (`\u0001` escapes), and that body must still get through. Other endpoints read at most `MAX_SMALL_REQUEST`.
 */
export const MAX_SEND_REQUEST = 6 * MAX_MESSAGE_BYTES + 64 * 1024;
export const MAX_SMALL_REQUEST = 64 * 1024;
/** The longest a poll may wait for a message, in seconds. */
export const HTTP_WAIT_MAX_SECONDS = 30;
export const MAX_POLL_MESSAGES = 100;

const name = z
  .string()
  .regex(NAME_PATTERN)
  .refine(isValidName, { message: 'is not a valid name (a device name such as CON)' });
const id = z.string().regex(/^[a-z0-9]{6}$/);
const key = z.string().regex(KEY_PATTERN);
const instance = z.string().regex(/^[a-z0-9]{8}$/);
const ms = z.number().int().nonnegative();

/** `POST /v1/sessions/{machine}/{name}/messages` and `POST /v1/names/{name}/messages`. */
export const SendBodySchema = z.strictObject({
  /** The message's key, `<stamp>-<id>`: also its idempotency key, so a retried send is stored once. */
  key,
  id,
  from: name,
  /** Must be the machine the API key belongs to: a machine can send only as itself. */
  fromMachine: name,
  type: z.enum(MESSAGE_TYPES),
  body: z.string().min(1),
  replyTo: id.optional(),
  sentAt: ms,
  ttlMs: z.number().int().positive(),
});
export type SendBody = z.infer<typeof SendBodySchema>;

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
export const LeasedMessageSchema = z.object({
  key,
  id,
  from: name,
  fromMachine: name,
  to: name,
  type: z.enum(MESSAGE_TYPES),
  body: z.string(),
  replyTo: id.optional(),
  sentAt: ms,
  ttlMs: z.number().int().positive(),
  /** Opaque; give it back to `ack` once the message is safe on the client's side. */
  ack: z.string().min(1).max(512),
});
export type LeasedMessage = z.infer<typeof LeasedMessageSchema>;

export const PollAnswerSchema = z.object({ messages: z.array(LeasedMessageSchema) });
export type PollAnswer = z.infer<typeof PollAnswerSchema>;

/** `POST /v1/sessions/{machine}/{name}/ack`. */
export const AckBodySchema = z.strictObject({
  acks: z.array(z.string().min(1).max(512)).min(1).max(MAX_POLL_MESSAGES),
});
export type AckBody = z.infer<typeof AckBodySchema>;
export const AckAnswerSchema = z.object({ acked: z.number().int().nonnegative() });

/** `PUT /v1/sessions/{machine}/{name}`: a heartbeat. */
export const HeartbeatBodySchema = z.strictObject({
  instance,
  pid: z.number().int().nonnegative(),
  cwd: z.string().max(4096),
  startedAt: ms,
  client: z.string().max(200).optional(),
});
export type HeartbeatBody = z.infer<typeof HeartbeatBodySchema>;

/** A live session as `GET /v1/sessions` lists it. */
export const PresenceSchema = z.object({
  machine: name,
  name,
  instance,
  pid: z.number().int().nonnegative(),
  cwd: z.string(),
  startedAt: ms,
  /** When the relay last heard from it (the relay's clock, ms). */
  lastSeen: ms,
  client: z.string().optional(),
});
export type Presence = z.infer<typeof PresenceSchema>;

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

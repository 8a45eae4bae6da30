import type { MessageType, SentEvent } from '../log/events.js';

/** What a message carries across the wire, whichever side stores it. */
export interface WireMessage {
  readonly key: string;
  readonly id: string;
  readonly from: string;
  readonly fromMachine: string;
  readonly type: MessageType;
  readonly body: string;
  readonly replyTo?: string | undefined;
  readonly sentAt: number;
  readonly ttlMs: number;
}

/**
 * The `sent` event of a message that came from another machine, under its original key (its stamp is the
 * key's start), with the sender's machine as origin: one shape for the relay's store and the recipient's.
 */
export function sentEventFrom(m: WireMessage, to: string): SentEvent {
  return {
    v: 1,
    kind: 'sent',
    key: m.key,
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
  };
}

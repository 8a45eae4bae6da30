import { HANDED_PATHS, type RelayEvent, type SentEvent, type SettledEvent } from '../log/events.js';

/**
 * The inbox projection: messages sent − consumed − expired, in delivery order (key order). Pure: no file
 * system, no clock. `now` comes in as an argument where expiry matters.
 */
export interface InboxState {
  readonly messages: ReadonlyMap<string, SentEvent>;
  readonly settled: ReadonlyMap<string, SettledEvent>;
}

export function initialInbox(): InboxState {
  return { messages: new Map(), settled: new Map() };
}

type Draft = { messages: Map<string, SentEvent>; settled: Map<string, SettledEvent> };

function apply(draft: Draft, event: RelayEvent): void {
  switch (event.kind) {
    case 'sent':
      draft.messages.set(event.key, event);
      return;
    case 'consumed':
    case 'expired':
      // The first outcome recorded wins; the store makes a second one impossible, the fold agrees.
      if (!draft.settled.has(event.key)) draft.settled.set(event.key, event);
      return;
    default:
      return;
  }
}

export function evolveInbox(state: InboxState, event: RelayEvent): InboxState {
  const draft: Draft = { messages: new Map(state.messages), settled: new Map(state.settled) };
  apply(draft, event);
  return draft;
}

export function foldInbox(events: Iterable<RelayEvent>, from: InboxState = initialInbox()): InboxState {
  const draft: Draft = { messages: new Map(from.messages), settled: new Map(from.settled) };
  for (const event of events) apply(draft, event);
  return draft;
}

/** Unsettled messages in delivery order; `to` keeps one inbox when the state holds several. */
export function pendingMessages(state: InboxState, to?: string): SentEvent[] {
  const out: SentEvent[] = [];
  for (const message of state.messages.values()) {
    if (state.settled.has(message.key)) continue;
    if (to !== undefined && message.to !== to) continue;
    out.push(message);
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function isExpired(message: Pick<SentEvent, 'sentAt' | 'ttlMs'>, now: number): boolean {
  return now >= message.sentAt + message.ttlMs;
}

export interface InboxCounts {
  readonly queued: number;
  /** Consumed events, including those of messages later put back (see `returned`). */
  readonly delivered: number;
  readonly expired: number;
  /** Messages put back after their first delivery reached nobody: `delivered − returned` reached a model. */
  readonly returned: number;
}

/** How many messages of one inbox wait, were delivered, or expired. */
export function inboxCounts(state: InboxState, to: string): InboxCounts {
  let queued = 0;
  let delivered = 0;
  let expired = 0;
  let returned = 0;
  for (const message of state.messages.values()) {
    if (message.to !== to) continue;
    if (message.restoredFrom !== undefined) returned++;
    const outcome = state.settled.get(message.key);
    if (outcome === undefined) queued++;
    else if (outcome.kind === 'consumed') delivered++;
    else expired++;
  }
  return { queued, delivered, expired, returned };
}

/** Consumed messages of one inbox by where they went: handed to the client (which acknowledges nothing), or returned to the model. */
export interface PathCounts {
  readonly handed: number;
  readonly returned: number;
}

export function countsByPath(state: InboxState, to: string): PathCounts {
  let handed = 0;
  let returned = 0;
  for (const message of state.messages.values()) {
    if (message.to !== to) continue;
    const outcome = state.settled.get(message.key);
    if (outcome?.kind !== 'consumed') continue;
    if (HANDED_PATHS.includes(outcome.via)) handed++;
    else returned++;
  }
  return { handed, returned };
}

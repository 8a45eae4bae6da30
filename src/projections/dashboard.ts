import type { HeartbeatEvent, OutboxEvent, RelayEvent, SentEvent, SessionEvent } from '../log/events.js';
import { foldInbox } from './inbox.js';
import { foldSessions, type LivenessView, liveSessions } from './sessions.js';

/**
 * What `claude-relay dashboard` shows a person, folded from the log: live sessions per machine, the traffic
 * of the last hour, every message with the state the log gives it, the outbox and what was moved aside.
 * Pure: the time, the pid check and the relay's answer come in as arguments.
 */

/** queued: in the inbox, not settled; handed: given to the client (it acknowledges nothing); returned: in a
 * tool answer or hook output the model read; expired: its TTL ran out. */
export type MessageState = 'queued' | 'handed' | 'returned' | 'expired';
export const MESSAGE_STATES: readonly MessageState[] = ['queued', 'handed', 'returned', 'expired'];

/** Paths that put a message in front of the client without an answer from the model's side. */
const HANDED_VIA: ReadonlySet<string> = new Set(['native', 'channel']);
const PUSH_MODES: ReadonlySet<string> = new Set(['native', 'channel']);

export const TRAFFIC_WINDOW_MS = 60 * 60 * 1000;
/** A body can be 1 MB; the page and every live update carry only its start. */
export const BODY_SHOWN_CHARS = 2000;
export const MESSAGES_SHOWN = 500;

export interface SessionRow {
  readonly name: string;
  readonly machine: string;
  readonly client?: string;
  readonly cwd: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly lastSeen: number;
  /** `native` or `channel`: mail reaches it by itself; `asks`: only when it polls or a hook runs. */
  readonly push: 'native' | 'channel' | 'asks';
  /** Unsettled messages in its inbox; null for a session on another machine (its inbox is on the relay). */
  readonly unread: number | null;
}

export interface MachineGroup {
  readonly machine: string;
  readonly local: boolean;
  readonly sessions: SessionRow[];
}

export interface MessageRow {
  readonly key: string;
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly machine: string;
  readonly origin?: string;
  readonly type: SentEvent['type'];
  readonly body: string;
  /** The body's full length: more than `body.length` when it was cut for the page. */
  readonly bodyChars: number;
  readonly replyTo?: string;
  /** The key of the first message of its `reply_to` chain: rows with one thread are shown together. */
  readonly thread: string;
  /** How many replies deep it is in its thread (0: the thread's first message). */
  readonly depth: number;
  readonly state: MessageState;
  readonly via?: string;
  readonly sentAt: number;
  readonly settledAt?: number;
  /** From send to delivery, for a delivered message. */
  readonly deliveryMs?: number;
}

export interface TrafficCell {
  readonly from: string;
  readonly to: string;
  readonly count: number;
}

export interface OutboxRow {
  readonly key: string;
  readonly id: string;
  readonly from: string;
  /** `machine:name`, or `name` when the relay is to find the one live session of that name. */
  readonly to: string;
  readonly type: SentEvent['type'];
  readonly body: string;
  readonly sentAt: number;
}

export interface DashboardInput {
  readonly view: LivenessView;
  /** The newest event of each instance of each session of this store. */
  readonly sessions: readonly SessionEvent[];
  /** Live sessions the relay reports for other machines, named plainly (not `machine:name`). */
  readonly remoteSessions?: readonly HeartbeatEvent[];
  /** Every sent, consumed and expired event of every inbox, archive and settled area. */
  readonly messages: readonly RelayEvent[];
  readonly outbox: readonly OutboxEvent[];
  readonly limit?: number;
}

export interface DashboardData {
  readonly machines: MachineGroup[];
  readonly traffic: { readonly since: number; readonly names: string[]; readonly cells: TrafficCell[] };
  /** Threads newest activity first; within a thread, in the order written. At most `limit` rows. */
  readonly messages: MessageRow[];
  /** How many messages the log holds in all, shown or not. */
  readonly messageCount: number;
  readonly outbox: OutboxRow[];
}

function cut(body: string): string {
  return body.length > BODY_SHOWN_CHARS ? body.slice(0, BODY_SHOWN_CHARS) : body;
}

function pushOf(beat: HeartbeatEvent): SessionRow['push'] {
  // Read without the schema's help: a heartbeat written before the field existed has none.
  const push = (beat as { push?: unknown }).push;
  return typeof push === 'string' && PUSH_MODES.has(push) ? (push as 'native' | 'channel') : 'asks';
}

function sessionRow(beat: HeartbeatEvent, unread: number | null): SessionRow {
  return {
    name: beat.name,
    machine: beat.machine,
    ...(beat.client === undefined ? {} : { client: beat.client }),
    cwd: beat.cwd,
    pid: beat.pid,
    startedAt: beat.startedAt,
    lastSeen: beat.atMs,
    push: pushOf(beat),
    unread,
  };
}

function groupMachines(input: DashboardInput, unread: ReadonlyMap<string, number>): MachineGroup[] {
  const groups = new Map<string, SessionRow[]>();
  const add = (row: SessionRow) => {
    const rows = groups.get(row.machine) ?? [];
    rows.push(row);
    groups.set(row.machine, rows);
  };
  groups.set(input.view.machine, []);
  for (const beat of liveSessions(foldSessions(input.sessions), input.view))
    add(sessionRow(beat, beat.machine === input.view.machine ? (unread.get(beat.name) ?? 0) : null));
  for (const beat of input.remoteSessions ?? [])
    if (beat.machine !== input.view.machine) add(sessionRow(beat, null));
  return [...groups]
    .map(([machine, sessions]) => ({
      machine,
      local: machine === input.view.machine,
      sessions: sessions.sort((a, b) => a.name.localeCompare(b.name)),
    }))
    .sort((a, b) => Number(b.local) - Number(a.local) || a.machine.localeCompare(b.machine));
}

/** Each message's thread root and depth, following `reply_to` among the messages the log still holds. */
function threads(messages: readonly SentEvent[]): Map<string, { root: string; depth: number }> {
  const byId = new Map<string, SentEvent>();
  for (const m of messages) if (!byId.has(m.id)) byId.set(m.id, m);
  const out = new Map<string, { root: string; depth: number }>();
  for (const m of messages) {
    let at = m;
    let depth = 0;
    const seen = new Set<string>([m.key]);
    for (;;) {
      const parent = at.replyTo === undefined ? undefined : byId.get(at.replyTo);
      // A reply to itself or a loop of ids (ids are short and can repeat) ends the chain.
      if (parent === undefined || seen.has(parent.key)) break;
      seen.add(parent.key);
      at = parent;
      depth++;
    }
    out.set(m.key, { root: at.key, depth });
  }
  return out;
}

function messageRows(input: DashboardInput): { rows: MessageRow[]; all: SentEvent[] } {
  const state = foldInbox(input.messages);
  // A message put back after a cancelled take stands for the original, whose delivery reached nobody.
  const restored = new Set<string>();
  for (const m of state.messages.values()) if (m.restoredFrom !== undefined) restored.add(m.restoredFrom);
  const all = [...state.messages.values()].filter((m) => !restored.has(m.key));
  const thread = threads(all);
  const rows = all.map((m): MessageRow => {
    const outcome = state.settled.get(m.key);
    const t = thread.get(m.key) ?? { root: m.key, depth: 0 };
    const base = {
      key: m.key,
      id: m.id,
      from: m.from,
      to: m.to,
      machine: m.machine,
      ...(m.origin === undefined ? {} : { origin: m.origin }),
      type: m.type,
      body: cut(m.body),
      bodyChars: m.body.length,
      ...(m.replyTo === undefined ? {} : { replyTo: m.replyTo }),
      thread: t.root,
      depth: t.depth,
      sentAt: m.sentAt,
    };
    if (outcome === undefined) return { ...base, state: 'queued' };
    if (outcome.kind === 'expired') return { ...base, state: 'expired', settledAt: outcome.atMs };
    return {
      ...base,
      state: HANDED_VIA.has(outcome.via) ? 'handed' : 'returned',
      via: outcome.via,
      settledAt: outcome.atMs,
      deliveryMs: Math.max(0, outcome.atMs - m.sentAt),
    };
  });
  return { rows: orderByThread(rows), all };
}

/** Threads with the newest activity first; the messages of one thread in the order they were written. */
export function orderByThread(rows: readonly MessageRow[]): MessageRow[] {
  const groups = new Map<string, MessageRow[]>();
  for (const row of rows) {
    const group = groups.get(row.thread);
    if (group) group.push(row);
    else groups.set(row.thread, [row]);
  }
  // Sorted oldest first, a thread's newest message is its last.
  const newest = (g: MessageRow[]) => (g[g.length - 1] as MessageRow).key;
  return [...groups.values()]
    .map((g) => g.sort((a, b) => (a.key < b.key ? -1 : 1)))
    .sort((a, b) => (newest(a) < newest(b) ? 1 : -1))
    .flat();
}

function traffic(sent: readonly SentEvent[], outbox: readonly OutboxEvent[], now: number) {
  const since = now - TRAFFIC_WINDOW_MS;
  const counts = new Map<string, TrafficCell>();
  const count = (from: string, to: string) => {
    const k = `${from}\u0000${to}`;
    counts.set(k, { from, to, count: (counts.get(k)?.count ?? 0) + 1 });
  };
  for (const m of sent) if (m.sentAt >= since) count(m.origin ? `${m.machine}:${m.from}` : m.from, m.to);
  for (const o of outbox) if (o.sentAt >= since) count(o.from, addressOf(o));
  const cells = [...counts.values()].sort((a, b) => b.count - a.count || a.from.localeCompare(b.from));
  const names = [...new Set(cells.flatMap((c) => [c.from, c.to]))].sort();
  return { since, names, cells };
}

function addressOf(o: OutboxEvent): string {
  return o.toMachine === undefined ? o.to : `${o.toMachine}:${o.to}`;
}

export function projectDashboard(input: DashboardInput): DashboardData {
  const { rows, all } = messageRows(input);
  const unread = new Map<string, number>();
  for (const row of rows) if (row.state === 'queued') unread.set(row.to, (unread.get(row.to) ?? 0) + 1);
  const outbox = [...input.outbox]
    .sort((a, b) => (a.key < b.key ? 1 : -1))
    .map((o) => ({
      key: o.key,
      id: o.id,
      from: o.from,
      to: addressOf(o),
      type: o.type,
      body: cut(o.body),
      sentAt: o.sentAt,
    }));
  return {
    machines: groupMachines(input, unread),
    traffic: traffic(all, input.outbox, input.view.now),
    messages: rows.slice(0, input.limit ?? MESSAGES_SHOWN),
    messageCount: rows.length,
    outbox,
  };
}

/** The list a filter asks for: one session's messages (sent or received) and/or one state. */
export function filterMessages(
  rows: readonly MessageRow[],
  filter: { session?: string | undefined; state?: string | undefined },
): MessageRow[] {
  return rows.filter(
    (r) =>
      (filter.session === undefined || r.from === filter.session || r.to === filter.session) &&
      (filter.state === undefined || r.state === filter.state),
  );
}

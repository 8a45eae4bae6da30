/** The view `/api/events` streams, as the page reads it (the server's `DashboardView`). */

export interface SessionRow {
  name: string;
  machine: string;
  client?: string;
  cwd: string;
  pid: number;
  startedAt: number;
  push: 'native' | 'channel' | 'asks';
  unread: number | null;
}
export interface MessageRow {
  key: string;
  id: string;
  from: string;
  to: string;
  origin?: string;
  type: string;
  body: string;
  bodyChars: number;
  replyTo?: string;
  thread: string;
  depth: number;
  state: 'queued' | 'handed' | 'returned' | 'expired';
  via?: string;
  sentAt: number;
  deliveryMs?: number;
}
export interface View {
  now: number;
  machine: string;
  root: string;
  error?: string;
  machines?: { machine: string; local: boolean; sessions: SessionRow[] }[];
  traffic?: { names: string[]; cells: { from: string; to: string; count: number }[] };
  messages?: MessageRow[];
  messageCount?: number;
  outbox?: { id: string; from: string; to: string; type: string; body: string; sentAt: number }[];
  outboxCounts?: { waiting: number; delivered: number; refused: number };
  quarantined?: string[];
  remote?: { url: string; problem?: string };
  problems: { file: string; reason: string }[];
}

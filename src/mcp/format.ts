import os from 'node:os';
import type { HeartbeatEvent, SentEvent } from '../log/events.js';
import { notJoinedLine } from '../relay/send.js';

/**
 * The text a model reads. Every character is paid for on every call, so answers are terse; the shapes of
 * the published seed are kept (`1 new message(s):`, `  [request|local] From frontend: …`).
 */

/**
 * Body lines after the first are indented deeper than any header, so a body cannot forge a message. Every
 * character that some reader takes for a line break (VT, FF, NEL, U+2028, U+2029) counts as one here.
 */
function indentBody(body: string): string {
  return body.split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/).join('\n    ');
}

/** `again`: a taker that died or ran out of time had taken it, so the model may have seen it before. */
export function formatMessage(m: SentEvent, again = false): string {
  // A person at a terminal may write under any name: the header says so.
  const origin = `${m.origin ?? 'local'}${m.by === 'cli' ? '|cli' : ''}`;
  const re = m.replyTo === undefined ? '' : ` re #${m.replyTo}`;
  const seen = again ? ' (again)' : '';
  return `  [${m.type}|${origin}] From ${m.from}: #${m.id}${seen}${re} ${indentBody(m.body)}`;
}

const NONE: ReadonlySet<string> = new Set();

export interface Waiting {
  readonly remaining: number;
  /** Bytes of the bodies left waiting, when known: a hook says how much it could not show. */
  readonly remainingBytes?: number;
  readonly again?: ReadonlySet<string>;
}

export function formatPoll(messages: readonly SentEvent[], waiting: Waiting | number = 0): string {
  const w = typeof waiting === 'number' ? { remaining: waiting } : waiting;
  const again = w.again ?? NONE;
  const more = w.remainingBytes ? `, ${formatBytes(w.remainingBytes)}` : '';
  if (messages.length === 0) {
    if (w.remaining === 0) return 'No new messages.';
    return `${w.remaining} message(s) waiting${more}, too long for here: call relay_poll to read.`;
  }
  const lines = [
    `${messages.length} new message(s):`,
    ...messages.map((m) => formatMessage(m, again.has(m.key))),
  ];
  // Only a hook knows the bytes it left: it also says which tool reads them.
  if (w.remaining > 0)
    lines.push(`(${w.remaining} more waiting${more}: ${more ? 'call relay_poll' : 'poll again'})`);
  return lines.join('\n');
}

function formatBytes(n: number): string {
  return n < 1000 ? `${n} B` : `${Math.round(n / 1000)} KB`;
}

export function formatSent(
  event: SentEvent,
  live: boolean,
  notJoined?: { closest?: string | undefined },
): string {
  if (notJoined) return notJoinedLine(event.id, event.to, notJoined.closest);
  return live ? `Sent #${event.id} to ${event.to}.` : `Queued #${event.id} for ${event.to} (not live now).`;
}

/** A send through the remote relay: there already, or waiting in the outbox (`state: queued`). */
export function formatRemoteSent(
  event: SentEvent,
  remote: {
    to: string;
    state: 'sent' | 'queued';
    live: boolean;
    note?: string | undefined;
    notJoined?: boolean | undefined;
  },
): string {
  if (remote.notJoined) return notJoinedLine(event.id, remote.to);
  if (remote.state === 'queued')
    return `Queued #${event.id} for ${remote.to} (${remote.note ?? 'relay unreachable; retrying'}).`;
  return remote.live
    ? `Sent #${event.id} to ${remote.to}.`
    : `Queued #${event.id} for ${remote.to} (not live now).`;
}

export function formatBroadcast(events: readonly SentEvent[]): string {
  if (events.length === 0) return 'No other live session; nothing sent.';
  return `Sent to ${events.length} session(s): ${events.map((e) => e.to).join(', ')}.`;
}

export function tildePath(p: string, home: string = os.homedir()): string {
  if (home && (p === home || p.startsWith(`${home}/`))) return `~${p.slice(home.length)}`;
  return p;
}

export function formatUptime(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  return minutes === 0 ? '<1m' : `${minutes}m`;
}

/** Sessions shown with their folder and uptime; past these, only names (what relay_send needs), by machine. */
export const SESSIONS_IN_FULL = 20;
/** Names shown past the full lines; past these, only a count, so the answer stays readable at any scale. */
export const SESSIONS_BY_NAME = 100;

export function formatSessions(
  sessions: readonly Pick<HeartbeatEvent, 'name' | 'cwd' | 'startedAt' | 'pid' | 'push'>[],
  me: string,
  now: number,
  home?: string,
): string {
  const lines = [`${sessions.length} active session(s):`];
  // The caller's own line always comes first among the full ones once the list is cut.
  const ordered =
    sessions.length > SESSIONS_IN_FULL
      ? [...sessions.filter((s) => s.name === me), ...sessions.filter((s) => s.name !== me)]
      : sessions;
  for (const s of ordered.slice(0, SESSIONS_IN_FULL)) {
    const you = s.name === me ? ' (you)' : '';
    // `push`: mail reaches that model by itself (native inbox or channel); otherwise only when it asks.
    const push = s.push === undefined ? '' : ' push';
    lines.push(
      `  - ${s.name}${push}${you} — ${tildePath(s.cwd, home)} (up ${formatUptime(now - s.startedAt)}, pid ${s.pid})`,
    );
  }
  const byMachine = new Map<string, string[]>();
  const named = ordered.slice(SESSIONS_IN_FULL, SESSIONS_IN_FULL + SESSIONS_BY_NAME);
  for (const s of named) {
    const colon = s.name.indexOf(':');
    const machine = colon < 0 ? '' : s.name.slice(0, colon + 1);
    byMachine.set(machine, [...(byMachine.get(machine) ?? []), s.name.slice(colon + 1)]);
  }
  for (const [machine, names] of byMachine)
    lines.push(`  + ${names.length} more${machine ? ` on ${machine}` : ':'} ${names.join(', ')}`);
  const unlisted = ordered.length - SESSIONS_IN_FULL - named.length;
  if (unlisted > 0) lines.push(`  + ${unlisted} more, not listed`);
  return lines.join('\n');
}

export function formatRenamed(name: string, wanted: string): string {
  return `You are "${name}": "${wanted}" is held by another live session.`;
}

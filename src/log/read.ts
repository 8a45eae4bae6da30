import { readdirSync } from 'node:fs';
import { readRegular } from './confined.js';
import { EventSchema, FORMAT_VERSION, type RelayEvent } from './events.js';

export type ReadResult =
  | { readonly ok: true; readonly event: RelayEvent }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/**
 * Reads and validates one event file. A missing file (moved by another process) is not an error; a link, a
 * FIFO, a folder or a file larger than any event is refused unread (`confined.ts`).
 */
export async function readEventFile(file: string): Promise<ReadResult> {
  const read = await readRegular(file);
  return read.ok ? parseEvent(read.text) : read;
}

export function parseEvent(text: string): ReadResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, missing: false, reason: 'is not valid JSON' };
  }
  const version = (raw as { v?: unknown } | null)?.v;
  if (typeof version === 'number' && version > FORMAT_VERSION) {
    return {
      ok: false,
      missing: false,
      reason: `has format version ${version}; upgrade claude-relay to read it`,
    };
  }
  const parsed = EventSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'event';
    return {
      ok: false,
      missing: false,
      reason: `is not a valid event (${where}: ${issue?.message ?? 'invalid'})`,
    };
  }
  return { ok: true, event: parsed.data };
}

/**
 * Directory entries, sorted; an absent directory is empty. Listed synchronously: an inbox or a session's
 * folder holds a handful of names, and the thread pool's round trip costs more than the call.
 */
export async function listNames(dir: string): Promise<string[]> {
  try {
    const names = readdirSync(dir);
    return names.sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

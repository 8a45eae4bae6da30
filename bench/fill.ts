import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseEvent } from '../src/log/read.js';
import { consumedEvent, sentEvent } from './events.js';

/**
 * Fills a store with event files of the real shape, fast: plain writes without fsync, since building a
 * 100k-event store is set-up, not the thing measured. The first file of each kind is checked with the log's
 * own reader, so a change of the event format breaks the bench instead of measuring files nobody reads.
 */
const CONCURRENCY = 64;
export const PEERS = 100;
export const FILL_BODY = 'Can you run the test suite?';

export function peerName(i: number): string {
  return `peer-${String(i % PEERS).padStart(2, '0')}`;
}

type FileToWrite = readonly [file: string, data: string];

/** Writes the files a generator yields, CONCURRENCY at a time, making each directory once. */
async function writeAll(files: Iterator<FileToWrite>): Promise<void> {
  const made = new Map<string, Promise<unknown>>();
  const writer = async () => {
    for (let next = files.next(); !next.done; next = files.next()) {
      const [file, data] = next.value;
      const dir = path.dirname(file);
      let mkdir = made.get(dir);
      if (mkdir === undefined) {
        mkdir = fs.mkdir(dir, { recursive: true });
        made.set(dir, mkdir);
      }
      await mkdir;
      await fs.writeFile(file, data);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, writer));
}

function checked(data: string): string {
  const read = parseEvent(data);
  if (!read.ok) throw new Error(`bench fill writes an event the log rejects: it ${read.reason}`);
  return data;
}

/** Unread messages `from`..`to` (exclusive) in 100 other sessions' inboxes: the rest of the store. */
export async function fillElsewhere(root: string, from: number, to: number, baseMs: number): Promise<void> {
  function* files(): Generator<FileToWrite> {
    for (let i = from; i < to; i++) {
      const event = sentEvent(i, baseMs, peerName(i + 1), peerName(i), FILL_BODY);
      const data = JSON.stringify(event);
      yield [path.join(root, 'inbox', event.to, `${event.key}.json`), i === 0 ? checked(data) : data];
    }
  }
  await writeAll(files());
}

/**
 * Messages `from`..`to` that `name` already consumed: each a sent event in archive/<name>/ and its consumed
 * event in settled/<name>/ (two event files per message), as a poll leaves them.
 */
export async function fillHistory(
  root: string,
  name: string,
  from: number,
  to: number,
  baseMs: number,
): Promise<void> {
  function* files(): Generator<FileToWrite> {
    for (let i = from; i < to; i++) {
      const sent = sentEvent(i, baseMs, 'api', name, FILL_BODY);
      const sentData = JSON.stringify(sent);
      const consumedData = JSON.stringify(consumedEvent(sent, sent.sentAt + 1000));
      yield [path.join(root, 'archive', name, `${sent.key}.json`), i === 0 ? checked(sentData) : sentData];
      yield [
        path.join(root, 'settled', name, `${sent.key}.json`),
        i === 0 ? checked(consumedData) : consumedData,
      ];
    }
  }
  await writeAll(files());
}

/**
 * What keeps the relay inside its store when the store itself is hostile: a symbolic link planted in any
 * folder, an event name that is a FIFO, a socket, a folder or a huge file. The root is resolved once; below
 * it no symbolic link is ever followed (a folder that is one is refused, a file that is one is not opened),
 * and only regular files of a bounded size are read, opened so that a FIFO cannot block. Loads no schema:
 * the hook's fast path uses it too.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { RelayError } from '../errors.js';

/** The largest message body, in UTF-8 bytes (the send limit). */
export const MAX_BODY_BYTES = 1_000_000;
/**
 * The largest event file read. JSON escapes a control character as six bytes, so a valid event with a
 * body at the limit can be six times its size; anything larger is not an event the relay wrote.
 */
export const MAX_EVENT_BYTES = 6 * MAX_BODY_BYTES + 64 * 1024;

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** The root with its own links resolved (a store may live behind one), or as given while it does not exist. */
export function realRoot(root: string): string {
  const resolved = path.resolve(root);
  try {
    return realpathSync(resolved);
  } catch {
    const parent = path.dirname(resolved);
    return parent === resolved ? resolved : path.join(realRoot(parent), path.basename(resolved));
  }
}

export function linkRefusal(target: string, link: string): RelayError {
  return new RelayError(
    'outside_root',
    `Refusing ${target}: ${link} is a symbolic link inside the relay store, which the relay never follows; replace it with a real folder or remove it.`,
  );
}

/**
 * Throws `outside_root` when `p` or a folder between `root` and it is a symbolic link. Checked at every use,
 * not once, so a link planted while the relay runs is refused too. A missing component ends the walk:
 * whatever the relay creates there is a real folder.
 */
export async function refuseLinks(root: string, p: string): Promise<void> {
  const rel = path.relative(root, p);
  if (rel === '') return;
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new RelayError('outside_root', `Refusing ${p}: it resolves outside the relay store ${root}.`);
  }
  let at = root;
  for (const part of rel.split(path.sep)) {
    at = path.join(at, part);
    let st: Stats;
    try {
      st = lstatSync(at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw e;
    }
    if (st.isSymbolicLink()) throw linkRefusal(p, at);
    if (!st.isDirectory()) return;
  }
}

export type RegularRead =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/** What a non-regular entry is, for a report. */
export function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'a device';
}

/**
 * Reads a regular file of at most `maxBytes`, without following a link in its last component and without
 * waiting on a FIFO; anything else is refused with the reason, unread.
 */
export async function readRegular(file: string, maxBytes = MAX_EVENT_BYTES): Promise<RegularRead> {
  // Synchronous calls: an event file is a page or two in the cache, read faster than a thread-pool trip.
  let fd: number;
  try {
    fd = openSync(file, READ_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return { ok: false, missing: false, reason: 'is a symbolic link, never followed' };
    // A socket cannot be opened at all.
    if (code === 'ENXIO') return { ok: false, missing: false, reason: 'is not a regular file' };
    return { ok: false, missing: code === 'ENOENT', reason: `cannot be read (${code ?? String(e)})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, missing: false, reason: `is ${kindOf(st)}, not a regular file` };
    if (st.size > maxBytes) {
      return {
        ok: false,
        missing: false,
        reason: `is ${st.size} bytes, larger than any event (${maxBytes})`,
      };
    }
    // Read at most one byte past the bound, whatever the file grows to meanwhile.
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    while (n < buf.length) {
      const want = buf.length - n;
      const bytesRead = readSync(fd, buf, n, want, n);
      n += bytesRead;
      // A regular file reads short only at its end: one read per event, not a second that returns 0.
      if (bytesRead < want) break;
    }
    if (n > maxBytes) return { ok: false, missing: false, reason: `grew past ${maxBytes} bytes while read` };
    return { ok: true, text: buf.subarray(0, n).toString('utf8') };
  } finally {
    closeSync(fd);
  }
}

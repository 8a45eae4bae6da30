import { randomBytes } from 'node:crypto';
import { closeSync, fsync, linkSync, mkdirSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fsError, isRelayError } from '../errors.js';
import { refuseLinks } from './confined.js';

/**
 * Atomic, durable creation of an event file: write the whole event to a temporary file on the same file
 * system, fsync it, then link(2) it into place and fsync the directory. link(2) never leaves a partial file
 * and fails with EEXIST instead of replacing, so a reader sees either no file or the complete event, and the
 * same call gives exclusive creation for free (the `consumed` race is decided by it). Once this resolves, a
 * `kill -9` or a power cut cannot take the event back.
 */
export interface CreateOptions {
  /** Further names for the same file (extra index links), made before the event itself is linked. */
  readonly alsoAt?: readonly string[];
  /**
   * Whether the extra links' folders are fsynced too (default yes). An index that only a power cut could
   * lose (a process crash keeps it: the kernel has it) may skip the second fsync, the costliest step of a
   * send after the event's own.
   */
  readonly syncAlsoAt?: boolean;
  /**
   * Whether anything is fsynced (default yes). A lease needs exclusive creation and a complete file, not
   * durability: after a power cut its holder is gone and the message is free again either way.
   */
  readonly durable?: boolean;
  /**
   * Called once the event is linked (visible) and before its folder's fsync: a caller ordering its appends
   * lets the next one start here, so appends of one process share the folder's fsync (group commit).
   */
  readonly onLinked?: () => void;
}

export type CreateResult = 'created' | 'exists';

const knownDirs = new Set<string>();

function ensureDir(dir: string): void {
  if (knownDirs.has(dir)) return;
  mkdirSync(dir, { recursive: true });
  knownDirs.add(dir);
}

/** The one step of an append that waits on the disk, so the only one sent to the thread pool. */
function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
}

/**
 * Group commit: an fsync of a folder makes durable every link made in it before the fsync began. A call
 * that finds one running waits for it, then shares the next one with every call that arrived meanwhile;
 * each caller still resolves only after an fsync that began after its own link.
 */
const dirSyncs = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

export function fsyncDir(dir: string): Promise<void> {
  const state = dirSyncs.get(dir);
  if (state === undefined) return startDirSync(dir);
  state.next ??= state.running.catch(() => {}).then(() => startDirSync(dir));
  return state.next;
}

function startDirSync(dir: string): Promise<void> {
  const running: Promise<void> = syncDirNow(dir).finally(() => {
    const s = dirSyncs.get(dir);
    if (s?.running === running && s.next === undefined) dirSyncs.delete(dir);
  });
  dirSyncs.set(dir, { running });
  return running;
}

async function syncDirNow(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    await fsyncFd(fd);
  } catch (e) {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Every step of an append but the fsyncs runs synchronously: each is a few microseconds on a page in the
 * cache, and a trip through Node's thread pool costs more than the call, a dozen times per message.
 */
export async function writeTempFile(tmpDir: string, data: string, durable = true): Promise<string> {
  ensureDir(tmpDir);
  const tmp = path.join(tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    // tmp/ was removed since it was cached (a person cleaning the store by hand).
    knownDirs.delete(tmpDir);
    ensureDir(tmpDir);
    fd = openSync(tmp, 'wx');
  }
  try {
    const buf = Buffer.from(data, 'utf8');
    for (let n = 0; n < buf.length; ) n += writeSync(fd, buf, n, buf.length - n);
    if (durable) await fsyncFd(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  return tmp;
}

function linkInto(tmp: string, target: string): void {
  try {
    linkSync(tmp, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    // The directory was not there yet (or was removed since it was cached).
    knownDirs.delete(path.dirname(target));
    ensureDir(path.dirname(target));
    linkSync(tmp, target);
  }
}

/**
 * Creates `target` with `data`, atomically and durably. Resolves `exists` (and writes nothing) when a file
 * is already at `target`. `tmpDir` must be on the same file system as every target.
 */
export async function createEventFile(
  tmpDir: string,
  target: string,
  data: string,
  options: CreateOptions = {},
): Promise<CreateResult> {
  let tmp: string | undefined;
  // tmpDir is `<root>/tmp`. Checked on every write, whatever is cached: a folder replaced by a symbolic link
  // while the relay runs must not take the event (or its temporary copy) outside the store.
  const root = path.dirname(tmpDir);
  try {
    for (const dir of [tmpDir, target, ...(options.alsoAt ?? [])]) {
      await refuseLinks(root, dir === tmpDir ? dir : path.dirname(dir));
    }
    ensureDir(path.dirname(target));
    tmp = await writeTempFile(tmpDir, data, options.durable !== false);
    // Extra links first: if one fails, the event itself was never published, so an error really means
    // "not sent" and a retry cannot deliver it twice. An orphan extra link only over-counts an index.
    const dirs = new Set<string>();
    const extras: string[] = [];
    for (const extra of options.alsoAt ?? []) {
      ensureDir(path.dirname(extra));
      try {
        linkInto(tmp, extra);
        extras.push(extra);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      if (options.syncAlsoAt !== false) dirs.add(path.dirname(extra));
    }
    try {
      linkInto(tmp, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      for (const extra of extras) rmSync(extra, { force: true });
      return 'exists';
    }
    dirs.add(path.dirname(target));
    options.onLinked?.();
    if (options.durable !== false) await Promise.all([...dirs].map(fsyncDir));
    return 'created';
  } catch (e) {
    throw isRelayError(e) ? e : fsError(e, `writing ${path.basename(target)}`, root);
  } finally {
    // unlink, not rm: rm's lstat first is one more metadata call on every append.
    if (tmp !== undefined) {
      try {
        unlinkSync(tmp);
      } catch {}
    }
  }
}

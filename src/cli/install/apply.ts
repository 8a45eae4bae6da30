import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { Target } from './targets.js';

/**
 * Applies config edits with a printed diff. Before the first edit of a file, its original bytes are kept
 * beside it (`<file>.claude-relay.bak`), or, when it did not exist, an empty `<file>.claude-relay.absent`
 * marker. Uninstall restores those bytes exactly (or removes the file and the folder install made for it)
 * when the file is still just as install left it, so install + uninstall is a byte-for-byte round trip;
 * when the user changed it since, only our entries are taken out.
 */
export const BACKUP_SUFFIX = '.claude-relay.bak';
export const ABSENT_SUFFIX = '.claude-relay.absent';

export interface Change {
  readonly file: string;
  readonly before: string | undefined;
  /** undefined: the file is removed (it did not exist before install). */
  readonly after: string | undefined;
  /** Install: where to keep the original (a `.bak` copy, or an `.absent` marker). */
  readonly backup?: string;
}

async function read(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function exists(file: string): Promise<boolean> {
  return (await read(file)) !== undefined;
}

export async function planInstall(targets: readonly Target[]): Promise<Change[]> {
  const changes: Change[] = [];
  for (const t of targets) {
    const before = await read(t.file);
    const after = t.add(before);
    if (after === before) continue;
    const kept = (await exists(t.file + BACKUP_SUFFIX)) || (await exists(t.file + ABSENT_SUFFIX));
    const backup = t.file + (before === undefined ? ABSENT_SUFFIX : BACKUP_SUFFIX);
    changes.push({ file: t.file, before, after, ...(kept ? {} : { backup }) });
  }
  return changes;
}

export async function planUninstall(targets: readonly Target[]): Promise<Change[]> {
  const changes: Change[] = [];
  for (const t of targets) {
    const before = await read(t.file);
    if (before === undefined) continue;
    const original = await read(t.file + BACKUP_SUFFIX);
    const wasAbsent = await exists(t.file + ABSENT_SUFFIX);
    let after: string | undefined;
    if (original !== undefined && t.add(original) === before) after = original;
    else if (wasAbsent && t.add(undefined) === before) after = undefined;
    else {
      after = t.remove(before);
      if (after === before) continue;
    }
    changes.push({ file: t.file, before, after });
  }
  return changes;
}

export function describe(change: Change): string {
  const patch = createTwoFilesPatch(
    change.file,
    change.file,
    change.before ?? '',
    change.after ?? '',
    change.before === undefined ? '(new file)' : '',
    change.after === undefined ? '(removed)' : '',
  );
  return patch.split('\n').slice(1).join('\n');
}

export async function apply(change: Change, uninstalling: boolean): Promise<void> {
  const dir = path.dirname(change.file);
  if (change.after !== undefined) await fs.mkdir(dir, { recursive: true });
  if (change.backup !== undefined) {
    // Exclusive: a backup already there is the true original, from an earlier install.
    await fs
      .writeFile(change.backup, change.before ?? '', { flag: 'wx' })
      .catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
  }
  if (change.after === undefined) await fs.rm(change.file, { force: true });
  else await fs.writeFile(change.file, change.after);
  if (!uninstalling) return;
  const wasAbsent = await exists(change.file + ABSENT_SUFFIX);
  await fs.rm(change.file + BACKUP_SUFFIX, { force: true });
  await fs.rm(change.file + ABSENT_SUFFIX, { force: true });
  // The folder install created for a new file goes too, but only when nothing else is in it.
  if (wasAbsent && change.after === undefined) await fs.rmdir(dir).catch(() => {});
}

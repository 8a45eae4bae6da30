import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/cleanup.js';
import { runCli } from '../support/processes.js';

/**
 * What the install tests share: a temporary HOME and project folder, a snapshot of every file in them, and a
 * run of the CLI there.
 */

export type Scope = 'user' | 'project';

export interface Dirs {
  readonly home: string;
  readonly project: string;
}

export async function dirs(): Promise<Dirs> {
  return { home: await tempDir('relay-home-'), project: await tempDir('relay-project-') };
}

/** Every file under the temp HOME and project folder, with its bytes. */
export async function snapshot(d: Dirs): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (label: string, dir: string, rel = ''): Promise<void> => {
    for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) await walk(label, dir, child);
      else out[`${label}/${child}`] = await fs.readFile(path.join(dir, child), 'base64');
    }
  };
  await walk('~', d.home);
  await walk('.', d.project);
  return out;
}

export function relay(d: Dirs, args: string[]) {
  return runCli(args, { env: { HOME: d.home, RELAY_MACHINE_NAME: undefined }, cwd: d.project });
}

export async function write(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
}

export async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
}

export const SERVER = { command: 'claude-relay', args: ['serve'] };
export const HOOK = 'claude-relay hook';

export const OTHER_HOOKS = {
  model: 'opus',
  hooks: {
    Stop: [{ hooks: [{ type: 'command', command: 'notify-send done' }] }],
    PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: './guard.sh' }] }],
  },
};

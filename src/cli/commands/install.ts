import { apply, describe, planInstall, planUninstall } from '../install/apply.js';
import {
  CLIENTS,
  type Client,
  currentCommand,
  defaultHome,
  portableCommand,
  type Scope,
  targetsFor,
} from '../install/targets.js';

export interface InstallFlags {
  readonly client: string;
  readonly scope: string;
  readonly hooks: boolean;
  readonly dryRun?: boolean;
  readonly command?: string;
  readonly name: string;
}

function check(flags: InstallFlags): { client: Client; scope: Scope } {
  if (!(CLIENTS as readonly string[]).includes(flags.client)) {
    throw new Error(`--client must be one of ${CLIENTS.join(', ')}, got ${JSON.stringify(flags.client)}.`);
  }
  if (flags.scope !== 'user' && flags.scope !== 'project') {
    throw new Error(`--scope must be user or project, got ${JSON.stringify(flags.scope)}.`);
  }
  return { client: flags.client as Client, scope: flags.scope };
}

const NEXT_STEP: Record<Client, string> = {
  claude: 'Start a new Claude Code session to load the relay tools.\n',
  codex:
    "Start a new Codex session and trust the relay hooks when it asks (/hooks); a project's hooks run only in a trusted project.\n",
  gemini: 'Start a new Gemini CLI session to load the relay tools and hooks.\n',
  cursor: 'Open a new Cursor agent chat to load the relay tools and hooks.\n',
};

/** `claude-relay install` / `uninstall`: registers (or unregisters) the server and its hooks with a client. */
export async function runInstall(flags: InstallFlags, uninstalling: boolean): Promise<number> {
  let checked: { client: Client; scope: Scope };
  try {
    checked = check(flags);
  } catch (e) {
    process.stderr.write(`claude-relay: ${(e as Error).message}\n`);
    return 2;
  }
  // A project's files are shared (in git): a path on this machine would not run on the others'.
  const portable = checked.scope === 'project' && flags.command === undefined;
  const command =
    flags.command !== undefined
      ? flags.command.split(' ').filter(Boolean)
      : portable
        ? portableCommand()
        : currentCommand();
  const targets = targetsFor({
    ...checked,
    hooks: flags.hooks,
    command,
    home: process.env.HOME ?? defaultHome(),
    cwd: process.cwd(),
    name: flags.name,
    env: process.env,
  });
  let changes: Awaited<ReturnType<typeof planInstall>>;
  try {
    changes = uninstalling ? await planUninstall(targets) : await planInstall(targets);
  } catch (e) {
    process.stderr.write(`claude-relay: ${(e as Error).message}\n`);
    return 1;
  }
  const verb = uninstalling ? 'uninstall' : 'install';
  if (changes.length === 0) {
    process.stdout.write(
      uninstalling
        ? 'nothing to remove: claude-relay is not registered there.\n'
        : 'already installed: nothing to change.\n',
    );
    return 0;
  }
  if (portable && !uninstalling)
    process.stdout.write(
      `--scope project writes the portable \`${command.join(' ')}\` (a shared file; --command to choose another).\n`,
    );
  for (const change of changes) {
    process.stdout.write(`${describe(change)}\n`);
    if (flags.dryRun) continue;
    await apply(change, uninstalling);
    if (change.backup !== undefined) process.stdout.write(`backup of the original: ${change.backup}\n`);
  }
  process.stdout.write(
    flags.dryRun
      ? `dry run: nothing was written (${verb} would change ${changes.length} file(s)).\n`
      : `${verb}ed: ${changes.length} file(s) changed.\n`,
  );
  if (!uninstalling && !flags.dryRun) process.stdout.write(NEXT_STEP[checked.client]);
  return 0;
}

export function run(flags: InstallFlags): Promise<number> {
  return runInstall(flags, false);
}

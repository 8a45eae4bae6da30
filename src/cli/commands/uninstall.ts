import { type InstallFlags, runInstall } from './install.js';

export function run(flags: InstallFlags): Promise<number> {
  return runInstall(flags, true);
}

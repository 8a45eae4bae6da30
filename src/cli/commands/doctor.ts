import os from 'node:os';
import { loadConfig } from '../../relay/config.js';
import { runChecks } from '../../relay/doctor.js';

/** `claude-relay doctor`: each check with its result, and a fix for each failure. Exit 1 if any failed. */
export async function run(options: { json?: boolean }): Promise<number> {
  const checks = await runChecks(loadConfig(), process.env, process.env.HOME ?? os.homedir());
  if (options.json) {
    process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
  } else {
    for (const c of checks) {
      process.stdout.write(`${c.ok ? 'ok  ' : c.advisory ? 'warn' : 'FAIL'} ${c.name}: ${c.detail}\n`);
      if (!c.ok && c.fix) process.stdout.write(`     fix: ${c.fix}\n`);
    }
  }
  return checks.every((c) => c.ok || c.advisory) ? 0 : 1;
}

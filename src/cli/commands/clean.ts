import { cleanStore } from '../../relay/clean.js';
import { loadConfig } from '../../relay/config.js';
import { createContext } from '../../relay/serve-session.js';
import { logProblem } from '../log.js';

export async function run(options: { json?: boolean }): Promise<number> {
  const ctx = createContext({ config: loadConfig(), name: 'cli', onProblem: logProblem });
  const r = await cleanStore(ctx);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `cleaned ${ctx.store.root}`,
    `  archived ${r.packed} delivered or expired message(s)${r.segment ? ` into snapshots/${r.segment}` : ''}`,
    `  expired ${r.expired} unread message(s) past their TTL`,
    `  marked ${r.staleSessions} dead session(s) as left; dropped ${r.droppedInstances} ended session(s)`,
    `  removed ${r.tempRemoved} leftover temporary file(s)`,
  ];
  if (r.archived > 0)
    lines.push(`  finished archiving ${r.archived} message(s) an interrupted poll had left`);
  for (const q of r.quarantined) lines.push(`  moved a bad file aside: ${q}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

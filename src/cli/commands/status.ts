import { formatUptime, tildePath } from '../../mcp/format.js';
import { loadConfig } from '../../relay/config.js';
import { formatRemoteStatus, readRemoteStatus } from '../../relay/remote/status.js';
import { createContext } from '../../relay/serve-session.js';
import { readStatus } from '../../relay/status.js';
import { logProblem } from '../log.js';
import { forTerminal } from '../terminal.js';

function human(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export async function run(options: { json?: boolean }): Promise<number> {
  const config = loadConfig();
  const ctx = createContext({ config, name: 'cli', onProblem: logProblem });
  const report = await readStatus(ctx);
  const remote = await readRemoteStatus(ctx);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...report, machine: config.machine, remote }, null, 2)}\n`);
    return 0;
  }
  const now = Date.now();
  const live = report.sessions.filter((s) => s.live);
  const lines = [
    `store ${report.root} (${human(report.storeBytes)}) on ${config.machine}`,
    `${live.length} live session(s):`,
  ];
  for (const s of report.sessions) {
    const state = s.live
      ? `up ${formatUptime(now - s.startedAt)}`
      : `stale, last seen ${formatUptime(now - s.lastSeen)} ago`;
    const where = s.machine === config.machine ? '' : ` on ${s.machine}`;
    lines.push(
      `  - ${s.name}${where} — ${tildePath(s.cwd)} (${state}, pid ${s.pid}${s.client ? `, ${s.client}` : ''})`,
    );
  }
  // Handed: given to the client (native, channel), which acknowledges nothing; returned: in an answer to the model.
  lines.push('inboxes (queued / handed to the client / returned to the model / expired):');
  if (report.inboxes.length === 0) lines.push('  (none)');
  report.inboxes.forEach((i, n) => {
    const d = report.deliveries[n] ?? { handed: 0, returned: i.delivered };
    lines.push(`  - ${i.name}: ${i.queued} / ${d.handed} / ${d.returned} / ${i.expired}`);
  });
  lines.push(...formatRemoteStatus(remote));
  if (report.tempFiles > 0)
    lines.push(`${report.tempFiles} temporary file(s) in tmp/ (claude-relay clean removes old ones)`);
  process.stdout.write(`${forTerminal(lines.join('\n'))}\n`);
  return 0;
}

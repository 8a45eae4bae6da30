import { isRelayError } from '../errors.js';
import type { Problem } from '../log/store.js';

/** stderr only: stdout of `serve` is the MCP protocol. */
export function logProblem(problem: Problem): void {
  process.stderr.write(`claude-relay: skipped ${problem.file}: it ${problem.reason}\n`);
}

export function logError(e: unknown): void {
  const text = isRelayError(e) ? e.message : e instanceof Error ? e.message : String(e);
  process.stderr.write(`claude-relay: ${text}\n`);
}

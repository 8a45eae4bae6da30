import { isRelayError } from '../errors.js';

/** A command that threw: one line on stderr (the stack only for what is not a known relay error), exit 1. */
export function reportFailure(e: unknown): number {
  if (isRelayError(e)) process.stderr.write(`claude-relay: ${e.message}\n`);
  else process.stderr.write(`claude-relay: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 1;
}

#!/usr/bin/env node
import { reportFailure } from './failure.js';
import { fastPath } from './fast-path.js';
import { drained } from './output.js';

/** The CLI entry, and the only module that calls process.exit. */
async function run(argv: readonly string[]): Promise<number> {
  const fast = fastPath(argv);
  if (fast === undefined) return (await import('./program.js')).main(argv);
  return fast().catch(reportFailure);
}

run(process.argv).then(
  // Exit only once stdout has drained: a pipe reader would otherwise get a cut-off answer.
  (code) => drained().then(() => process.exit(code)),
  (e) => {
    process.stderr.write(`claude-relay: ${String(e)}\n`);
    process.exit(1);
  },
);

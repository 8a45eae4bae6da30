import { formatPoll } from '../../mcp/format.js';
import { loadConfig } from '../../relay/config.js';
import { createContext } from '../../relay/serve-session.js';
import { takeInbox } from '../../relay/take.js';
import { logProblem } from '../log.js';
import { writeTaken } from '../output.js';
import { forTerminal } from '../terminal.js';

/** `claude-relay poll [--name N]`: takes a session's new messages, as a poll by that session would. */
export async function run(options: { name?: string; json?: boolean }): Promise<number> {
  const config = loadConfig();
  const ctx = createContext({
    config,
    ...(options.name === undefined ? {} : { name: options.name }),
    onProblem: logProblem,
  });
  const taken = await takeInbox(ctx, { via: 'cli' });
  const { messages, remaining } = taken;
  const out = options.json
    ? `${JSON.stringify({ messages, remaining }, null, 2)}\n`
    : `${forTerminal(formatPoll(messages, { remaining, again: taken.again }))}\n`;
  await writeTaken(out, taken);
  return 0;
}

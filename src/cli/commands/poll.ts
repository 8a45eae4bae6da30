import { formatPoll } from '../../mcp/format.js';
import { loadConfig } from '../../relay/config.js';
import { pollInbox } from '../../relay/poll.js';
import { createContext } from '../../relay/serve-session.js';
import { logProblem } from '../log.js';

/** `claude-relay poll [--name N]`: takes a session's new messages, as a poll by that session would. */
export async function run(options: { name?: string; json?: boolean }): Promise<number> {
  const config = loadConfig();
  const ctx = createContext({
    config,
    ...(options.name === undefined ? {} : { name: options.name }),
    onProblem: logProblem,
  });
  const { messages, remaining } = await pollInbox(ctx, { via: 'cli' });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ messages, remaining }, null, 2)}\n`);
  } else {
    process.stdout.write(`${formatPoll(messages, remaining)}\n`);
  }
  return 0;
}

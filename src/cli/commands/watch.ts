import type { SentEvent } from '../../log/events.js';
import { validateName } from '../../log/names.js';
import { formatMessage } from '../../mcp/format.js';
import { loadConfig } from '../../relay/config.js';
import { peekInbox } from '../../relay/poll.js';
import { createContext } from '../../relay/serve-session.js';
import { takeInbox } from '../../relay/take.js';
import { logError, logProblem } from '../log.js';
import { writeTaken } from '../output.js';
import { forTerminal } from '../terminal.js';

function line(m: SentEvent): string {
  const time = new Date(m.sentAt).toTimeString().slice(0, 8);
  return `${time}${forTerminal(formatMessage(m).replace(/^ {2}/, ' '))}\n`;
}

/**
 * `claude-relay watch [name]`: follows an inbox for a person at a terminal. It only reads, unless
 * `--consume` is given: then it takes each message (consumed via `cli`), as a poll would.
 */
export async function run(name: string | undefined, options: { consume?: boolean }): Promise<number> {
  const config = loadConfig();
  const who = name === undefined ? config.desiredName : validateName(name, 'name');
  const ctx = createContext({ config, name: who, onProblem: logProblem });
  const watch = ctx.store.watchInbox(who, 500);
  await watch.start();
  process.stderr.write(
    `watching ${who}'s inbox in ${ctx.store.root}${options.consume ? ' (taking messages)' : ''}; Ctrl-C to stop\n`,
  );
  const shown = new Set<string>();
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => stop.abort());
  while (!stop.signal.aborted) {
    try {
      if (options.consume) {
        const taken = await takeInbox(ctx, { via: 'cli' });
        await writeTaken(taken.messages.map(line).join(''), taken);
      } else {
        for (const m of await peekInbox(ctx, who)) {
          if (shown.has(m.key)) continue;
          shown.add(m.key);
          process.stdout.write(line(m));
        }
      }
    } catch (e) {
      logError(e);
    }
    await watch.next(5000, stop.signal);
  }
  watch.close();
  return 0;
}

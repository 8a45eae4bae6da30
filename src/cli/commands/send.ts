import { isRelayError, RelayError } from '../../errors.js';
import { validateName } from '../../log/names.js';
import { loadConfig } from '../../relay/config.js';
import { sendMessage } from '../../relay/send.js';
import { createContext } from '../../relay/serve-session.js';
import { logProblem } from '../log.js';

/** `claude-relay send <to> <message>`: a person writes to a session, as `--from` (default `user`). */
export async function run(
  to: string,
  message: string,
  options: { from: string; type: string; replyTo?: string },
): Promise<number> {
  const config = loadConfig();
  const name = validateName(options.from, '--from');
  const ctx = createContext({ config, name, by: 'cli', onProblem: logProblem });
  const { event, live } = await sendMessage(ctx, {
    to,
    message,
    type: options.type,
    replyTo: options.replyTo,
  }).catch((e: unknown) => {
    // At a terminal the list of sessions is `claude-relay status`, not the model's relay_sessions tool.
    if (isRelayError(e) && e.code === 'unknown_session') {
      throw new RelayError(e.code, e.message.replace('with relay_sessions', 'with claude-relay status'));
    }
    throw e;
  });
  process.stdout.write(`${live ? 'sent' : 'queued (not live now)'} #${event.id} to ${event.to}\n`);
  return 0;
}

import { validateName } from '../../log/names.js';
import { loadConfig } from '../../relay/config.js';
import type { RemoteLink } from '../../relay/remote/link.js';
import { sendRouted } from '../../relay/remote/send.js';
import { notJoinedLine } from '../../relay/send.js';
import { createContext } from '../../relay/serve-session.js';
import { logProblem } from '../log.js';

/**
 * `claude-relay send <to> <message>`: a person writes to a session, as `--from` (default `user`). Routed as
 * `relay_send` routes: `machine:name`, or a name that never joined here, goes through the relay when one is
 * configured; a send the relay cannot take now waits in the outbox, which every `serve` of this store flushes.
 */
export async function run(
  to: string,
  message: string,
  options: { from: string; type: string; replyTo?: string },
): Promise<number> {
  const config = loadConfig();
  const ctx = createContext({
    config,
    name: validateName(options.from, '--from'),
    by: 'cli',
    onProblem: logProblem,
  });
  let link: RemoteLink | undefined;
  if (config.remote) {
    const { RemoteLink } = await import('../../relay/remote/link.js');
    // Not started: no heartbeat or inbound poll for a person at the terminal, only this send's attempt.
    link = new RemoteLink(ctx, config.remote);
  }
  const { event, live, remote, notJoined } = await sendRouted(ctx, link, {
    to,
    message,
    type: options.type,
    replyTo: options.replyTo,
  });
  const shownTo = remote?.to ?? event.to;
  let line: string;
  if (notJoined || remote?.notJoined) line = notJoinedLine(event.id, shownTo, notJoined?.closest);
  else if (remote?.state === 'queued') line = `queued (${remote.note}) #${event.id} to ${shownTo}`;
  else line = `${live ? 'sent' : 'queued (not live now)'} #${event.id} to ${shownTo}`;
  process.stdout.write(`${line}\n`);
  return 0;
}

import { RelayError, shorten } from '../../errors.js';
import { validateName } from '../../log/names.js';

/**
 * Where a send goes. `name` is a session of this machine; `machine:name` is a session elsewhere, through the
 * relay (this machine's own name means local). A bare `name` with a relay configured is `either`: local when
 * a session of that name ever joined this store, else the relay, which delivers it to the one live session
 * of that name on any machine. That last look-up reads the store, so it is made in the sender's queue
 * (src/relay/remote-send.ts); deciding everything else here, without waiting, keeps sends in call order.
 */
export type Address =
  | { readonly kind: 'local'; readonly name: string }
  | { readonly kind: 'remote'; readonly machine: string; readonly name: string }
  | { readonly kind: 'either'; readonly name: string };

export function parseAddress(myMachine: string, to: string, remoteConfigured: boolean): Address {
  const colon = to.indexOf(':');
  if (colon >= 0) {
    const machine = validateName(to.slice(0, colon), 'to (the machine before ":")');
    const name = validateName(to.slice(colon + 1), 'to (the session after ":")');
    if (machine === myMachine) return { kind: 'local', name };
    if (!remoteConfigured) {
      throw new RelayError(
        'remote_unavailable',
        `${shorten(to)} is a session on another machine, but no relay is configured here; set RELAY_REMOTE_URL and RELAY_API_KEY for this server.`,
      );
    }
    return { kind: 'remote', machine, name };
  }
  if (!remoteConfigured) return { kind: 'local', name: to };
  return { kind: 'either', name: validateName(to, 'to') };
}

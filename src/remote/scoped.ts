import { createHash } from 'node:crypto';
import { RelayError } from '../errors.js';
import type { SentEvent } from '../log/events.js';
import type { Store } from '../log/store.js';

/**
 * A message that crossed machines is idempotent per sending machine, not per key: the key is chosen by the
 * sender, so two machines can send one key (by chance, or because one learned the other's), and one must
 * never decide whether the other's message is stored. Such a message is kept under a key of its own: the
 * sender's stamp (its order) followed by a digest of the sending machine, which the API key proved, and the
 * sender's key. The sender's key stays in the event as `remoteKey`; its short `id`, the one a model sees
 * and names in `reply_to`, is unchanged.
 */
const ALPHABET_SIZE = 36 ** 6;
/** A slot held by another machine's message (a digest collision) moves this one to the next digest. */
const MAX_ATTEMPTS = 4;

export function scopedKey(machine: string, key: string, attempt = 0): string {
  const digest = createHash('sha256').update(`${machine}\0${key}\0${attempt}`).digest();
  const n = digest.readUIntBE(0, 6) % ALPHABET_SIZE;
  return `${key.slice(0, 22)}-${n.toString(36).padStart(6, '0')}`;
}

/** Whether a stored event is the message `machine` sent under `key`. */
function isFrom(event: SentEvent, machine: string, key: string): boolean {
  return event.origin === machine && (event.remoteKey ?? event.key) === key;
}

/**
 * Stores a message of `machine` (sent under `event.remoteKey`) in `store` once: `exists` when that
 * machine's message with that key is already there or already settled there. `event.key` is ignored; the
 * key it is stored under is returned.
 */
export async function appendScoped(
  store: Store,
  event: SentEvent & { origin: string; remoteKey: string },
): Promise<{ result: 'created' | 'exists'; key: string }> {
  const { origin: machine, remoteKey, to } = event;
  // Written before keys were scoped, under the sender's own key.
  const legacy = await store.readInbox(to, remoteKey);
  if (legacy && legacy.remoteKey === undefined && isFrom(legacy, machine, remoteKey)) {
    return { result: 'exists', key: remoteKey };
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const key = scopedKey(machine, remoteKey, attempt);
    const held = await store.readInbox(to, key);
    if (held && !isFrom(held, machine, remoteKey)) continue;
    // A settled slot has no event left to compare: that message was delivered once, as this one was.
    if (held || (await store.readSettled(to, key))) return { result: 'exists', key };
    if ((await store.appendSent({ ...event, key })) === 'created') return { result: 'created', key };
    // Another writer got the slot first: a concurrent retry of this message, or a colliding one.
    const now = await store.readInbox(to, key);
    if (!now || isFrom(now, machine, remoteKey)) return { result: 'exists', key };
  }
  // Every slot held by other machines' messages: only digests forged on purpose get here.
  throw new RelayError(
    'bad_input',
    `The message key ${remoteKey} of ${machine} collides with other machines' messages; send it again, it gets a new key.`,
  );
}

import { randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random lowercase id: short enough to cost a model few tokens, random enough within one inbox. */
export function randomId(length: number): string {
  let id = '';
  for (let i = 0; i < length; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/**
 * A message id: six random digits. The model sees it on every message and writes it back in `reply_to`;
 * digits cost it about half the tokens of letters. Unique enough among the messages one conversation sees,
 * and the message key (stamp + id) stays unique regardless.
 */
export function messageId(): string {
  return String(randomInt(1_000_000)).padStart(6, '0');
}

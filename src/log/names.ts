import { RelayError, shorten } from '../errors.js';

/** A session or machine name: safe as one path segment on every OS, and short enough to read. */
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;

// Windows resolves these as devices in any directory, with any extension.
const DEVICE_NAMES = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && !DEVICE_NAMES.test(name);
}

/** Throws `bad_name` unless `name` can be a session or machine name. `what` names the argument. */
export function validateName(name: unknown, what = 'name'): string {
  if (typeof name === 'string' && isValidName(name)) return name;
  const shown = typeof name === 'string' ? shorten(name) : String(name);
  throw new RelayError(
    'bad_name',
    `Expected \`${what}\` to be a session name like "api" or "server-2" (letters, digits, . _ -, at most 128, not a device name such as CON), got ${shown}.`,
  );
}

/**
 * Turns any string (a directory basename, a host name) into a valid name, so a session always has one:
 * `My Project!` → `My-Project`, `` → `session`.
 */
export function toName(raw: string, fallback = 'session'): string {
  let name = raw
    .replace(/[^a-zA-Z0-9._-]+/g, '-')
    .replace(/^[^a-zA-Z0-9]+/, '')
    .slice(0, 128);
  name = name.replace(/[-.]+$/, '') || name;
  if (!isValidName(name)) name = DEVICE_NAMES.test(name) ? `${name.replace(/\./g, '-')}-session` : fallback;
  return isValidName(name) ? name : fallback;
}

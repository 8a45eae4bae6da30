import { RelayError } from '../errors.js';

/** A positive whole number from the environment, or `fallback` when unset; anything else is refused. */
export function positiveInt(env: NodeJS.ProcessEnv, key: string, fallback: number, unit = ''): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new RelayError(
      'bad_input',
      `${key} must be a positive whole number${unit}, got ${JSON.stringify(raw.slice(0, 30))}; fix or unset it.`,
    );
  }
  return n;
}

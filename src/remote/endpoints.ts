import { INSTANCE_PATTERN } from '../log/events.js';
import { validateName } from '../log/names.js';
import { HttpError } from './errors.js';

/**
 * The relay's routes (spec/remote.md): a request line to one endpoint and its path parameters. The raw
 * path is split as sent, never normalised, so a `..` stays a segment and is refused as a name (400) rather
 * than resolved into another endpoint.
 */
export type Endpoint =
  | { kind: 'health' }
  | { kind: 'sessions' }
  | { kind: 'heartbeat'; machine: string; name: string }
  | { kind: 'leave'; machine: string; name: string; instance: string }
  | { kind: 'send'; machine: string; name: string }
  | { kind: 'send-by-name'; name: string }
  | { kind: 'poll'; machine: string; name: string }
  | { kind: 'ack'; machine: string; name: string };

const notFound = () =>
  new HttpError(
    404,
    'not_found',
    'No such endpoint; the relay serves /health and /v1/… as spec/remote.md lists.',
  );
const badMethod = (allowed: string) =>
  new HttpError(405, 'method_not_allowed', `This endpoint answers ${allowed} only.`);

/** Splits the raw path without normalising it: `..` stays a segment, and is then refused as a name (400). */
function segments(url: string): string[] {
  const pathOnly = url.split('?')[0] ?? '';
  return pathOnly
    .split('/')
    .slice(1)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new HttpError(
          400,
          'bad_path',
          'The request path has a malformed %-escape; encode names with encodeURIComponent.',
        );
      }
    });
}

function expect(method: string | undefined, allowed: string): void {
  if (method !== allowed) throw badMethod(allowed);
}

export function endpointOf(method: string | undefined, url: string): Endpoint {
  const s = segments(url);
  if (s.length === 1 && s[0] === 'health') {
    expect(method, 'GET');
    return { kind: 'health' };
  }
  if (s[0] !== 'v1') throw notFound();
  if (s[1] === 'sessions') {
    const [, , machine, name, last] = s;
    if (s.length === 2) {
      expect(method, 'GET');
      return { kind: 'sessions' };
    }
    if (machine === undefined || name === undefined) throw notFound();
    if (s.length === 4) {
      expect(method, 'PUT');
      return { kind: 'heartbeat', machine, name };
    }
    if (s.length === 5 && last !== undefined) {
      if (last === 'messages' || last === 'poll' || last === 'ack') {
        expect(method, 'POST');
        const kind = last === 'messages' ? 'send' : last;
        return { kind, machine, name };
      }
      expect(method, 'DELETE');
      return { kind: 'leave', machine, name, instance: last };
    }
  }
  if (s[1] === 'names' && s.length === 4 && s[3] === 'messages' && s[2] !== undefined) {
    expect(method, 'POST');
    return { kind: 'send-by-name', name: s[2] };
  }
  throw notFound();
}

export function checkNames(r: Endpoint): void {
  if ('machine' in r) validateName(r.machine, 'machine');
  if ('name' in r) validateName(r.name, 'name');
  if (r.kind === 'leave' && !INSTANCE_PATTERN.test(r.instance)) {
    throw new HttpError(
      400,
      'bad_name',
      'The instance in the path must be 8 lowercase letters or digits, as the heartbeat sent it.',
    );
  }
}

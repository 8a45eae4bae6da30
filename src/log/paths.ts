import os from 'node:os';
import path from 'node:path';
import { RelayError } from '../errors.js';
import { realRoot, refuseLinks } from './confined.js';
import { validateName } from './names.js';

/**
 * The store's layout. Every path the relay touches comes from here, built from validated names only, and
 * is checked to resolve inside the root; `checked` also refuses one that passes through a symbolic link.
 *
 *   inbox/<to>/<key>.json       sent events still waiting for their recipient (delivery order = name order)
 *   settled/<to>/<key>.json     the one consumed | expired event of a message, created exclusively
 *   leases/<to>/<key>.<gen>.json who is answering a message now; the highest generation holds it
 *   archive/<to>/<key>.json     sent events already settled, moved out of the inbox so a poll stays O(unread)
 *   sent/<from>/<key>.json      a second link to each send of a sender: its clock and its rate limit
 *   sessions/<name>/<..>.json   heartbeat and left events; each server compacts its own superseded ones
 *   snapshots/                  projections written by `clean`
 *   quarantine/                 corrupt files that `clean` moved aside (never deleted)
 *   tmp/                        files being written, linked into place once complete
 *   outbox/<from>/<key>.json    sends to another machine not yet taken by the remote relay
 *   forwarded/<from>/<key>.json the outcome of each outbox entry, created exclusively
 */
export type Area =
  | 'inbox'
  | 'settled'
  | 'leases'
  | 'archive'
  | 'sent'
  | 'sessions'
  | 'snapshots'
  | 'quarantine'
  | 'tmp'
  // sends to other machines, waiting for the remote relay, and their outcomes (src/relay/remote/outbox.ts)
  | 'outbox'
  | 'forwarded'
  // who holds a session name: claims/<name>/<generation>.json, the highest generation wins
  | 'claims';

/** `sessions/<name>/<stamp>-<instance>.json`. */
export const SESSION_FILE = /^(\d{13}-\d{8})-([a-z0-9]{8})\.json$/;

export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.RELAY_HOME;
  return path.resolve(fromEnv && fromEnv.length > 0 ? fromEnv : path.join(os.homedir(), '.claude-relay'));
}

export class StorePaths {
  readonly root: string;

  constructor(root: string) {
    this.root = realRoot(root);
  }

  /** Resolves `p` once no component of it below the root is a symbolic link; else rejects, following none. */
  async checked(p: string): Promise<string> {
    await refuseLinks(this.root, p);
    return p;
  }

  /** `area/` or `area/<name>/`, with `name` validated. */
  dir(area: Area, name?: string): string {
    return this.confine(
      name === undefined ? path.join(this.root, area) : path.join(this.root, area, validateName(name)),
    );
  }

  /** A file inside `area/<name>/`; `file` must be a plain file name that the log itself generated. */
  file(area: Area, name: string | undefined, file: string): string {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,200}$/.test(file)) {
      throw new RelayError(
        'outside_root',
        `Refusing the file name ${JSON.stringify(file.slice(0, 60))}: it is not one the relay writes.`,
      );
    }
    return this.confine(path.join(this.dir(area, name), file));
  }

  private confine(p: string): string {
    const resolved = path.resolve(p);
    const rel = path.relative(this.root, resolved);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new RelayError(
        'outside_root',
        `Refusing ${resolved}: it resolves outside the relay store ${this.root}.`,
      );
    }
    return resolved;
  }
}

import type { HeartbeatEvent } from '../../log/events.js';
import type { Presence } from '../../remote/protocol.js';

/** A session the relay reports, in the shape of a local heartbeat, under the name the caller shows it by. */
export function presenceAsHeartbeat(s: Presence, name: string): HeartbeatEvent {
  return {
    v: 1,
    kind: 'heartbeat',
    name,
    instance: s.instance,
    at: '',
    atMs: s.lastSeen,
    pid: s.pid,
    cwd: s.cwd,
    machine: s.machine,
    startedAt: s.startedAt,
    joined: '',
    ...(s.client === undefined ? {} : { client: s.client }),
  };
}

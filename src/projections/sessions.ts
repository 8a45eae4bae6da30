import type { HeartbeatEvent, RelayEvent, SessionEvent } from '../log/events.js';

/**
 * The sessions projection: the newest event of each instance of each session name. Liveness is a view over
 * it that takes the time and the pid check as arguments, so the projection itself stays pure.
 */
export type SessionsState = ReadonlyMap<string, ReadonlyMap<string, SessionEvent>>;

export function initialSessions(): SessionsState {
  return new Map();
}

function apply(draft: Map<string, Map<string, SessionEvent>>, event: RelayEvent): void {
  if (event.kind !== 'heartbeat' && event.kind !== 'left') return;
  let instances = draft.get(event.name);
  if (!instances) {
    instances = new Map();
    draft.set(event.name, instances);
  }
  const prev = instances.get(event.instance);
  if (prev !== undefined && event.at <= prev.at) return;
  instances.set(event.instance, event);
}

function copy(state: SessionsState): Map<string, Map<string, SessionEvent>> {
  return new Map([...state].map(([name, instances]) => [name, new Map(instances)]));
}

export function evolveSessions(state: SessionsState, event: RelayEvent): SessionsState {
  const draft = copy(state);
  apply(draft, event);
  return draft;
}

export function foldSessions(
  events: Iterable<RelayEvent>,
  from: SessionsState = initialSessions(),
): SessionsState {
  const draft = copy(from);
  for (const event of events) apply(draft, event);
  return draft;
}

export interface LivenessView {
  readonly now: number;
  /** A heartbeat older than this is stale. */
  readonly windowMs: number;
  /** This machine's name: only its pids can be checked. */
  readonly machine: string;
  readonly isPidAlive: (pid: number) => boolean;
}

export function isLive(beat: HeartbeatEvent, view: LivenessView): boolean {
  if (view.now - beat.atMs >= view.windowMs) return false;
  return beat.machine !== view.machine || view.isPidAlive(beat.pid);
}

/** One entry per live name (its most recent live instance), sorted by name. */
export function liveSessions(state: SessionsState, view: LivenessView): HeartbeatEvent[] {
  const out: HeartbeatEvent[] = [];
  for (const instances of state.values()) {
    let best: HeartbeatEvent | undefined;
    for (const event of instances.values()) {
      if (event.kind !== 'heartbeat' || !isLive(event, view)) continue;
      if (best === undefined || event.at > best.at) best = event;
    }
    if (best) out.push(best);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Instances whose last event is a heartbeat that is no longer live: what `clean` marks as left. */
export function staleInstances(state: SessionsState, view: LivenessView): HeartbeatEvent[] {
  const out: HeartbeatEvent[] = [];
  for (const instances of state.values()) {
    for (const event of instances.values()) {
      if (event.kind === 'heartbeat' && !isLive(event, view)) out.push(event);
    }
  }
  return out;
}

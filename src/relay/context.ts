import type { HybridClock } from '../log/clock.js';
import type { Store } from '../log/store.js';
import type { LivenessView } from '../projections/sessions.js';
import type { RelayConfig } from './config.js';
import type { SerialQueue } from './serial.js';

/** Who is acting: a joined `serve` session, or a person at the CLI sending as a name. */
export interface Identity {
  readonly name: string;
  readonly machine: string;
  readonly instance: string;
  readonly pid: number;
  readonly cwd: string;
  readonly startedAt: number;
  /** The stamp of the first heartbeat; empty until the session has joined. */
  readonly joined: string;
  /**
   * The MCP client running this session, learnt after `initialize`: a field set then, so that everything
   * holding this context (the heartbeat, the remote link) sees it without the context being replaced.
   */
  client?: string;
  /** How mail reaches this session by itself, while a push that hands messages to the client runs. */
  push?: 'native' | 'channel';
  readonly ancestors?: readonly number[];
  /** `cli`: a person at the terminal writes under this name; every message sent says so. */
  readonly by?: 'cli';
}

/** What every use-case needs: the log, the clock, the identity, and the outside facts passed in. */
export interface RelayContext {
  readonly store: Store;
  readonly clock: HybridClock;
  readonly config: RelayConfig;
  readonly me: Identity;
  readonly isPidAlive: (pid: number) => boolean;
  /** One per sender process: sends are appended one at a time, in call order. */
  readonly sends: SerialQueue;
}

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function livenessView(ctx: RelayContext): LivenessView {
  return {
    now: ctx.clock.wall(),
    windowMs: ctx.config.liveWindowMs,
    machine: ctx.config.machine,
    isPidAlive: ctx.isPidAlive,
  };
}

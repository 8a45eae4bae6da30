import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { isRelayError, type RelayError } from '../../src/errors.js';
import type { Problem } from '../../src/log/store.js';
import { DEFAULT_LIMITS, type Limits } from '../../src/projections/limits.js';
import type { RelayConfig } from '../../src/relay/config.js';
import { LIVE_WINDOW_MS } from '../../src/relay/config.js';
import type { RelayContext } from '../../src/relay/context.js';
import { type ContextOptions, createContext, RelaySession } from '../../src/relay/serve-session.js';

/** Shared set-up for the integration tests: a fresh store per test, a hand-driven clock, no real pids. */

export const T0 = 1_700_000_000_000;

export class ManualClock {
  t: number;
  constructor(start = T0) {
    this.t = start;
  }
  readonly now = (): number => this.t;
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export function makeTempDir(prefix = 'relay-int-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export function testConfig(root: string, limits: Partial<Limits> = {}): RelayConfig {
  return {
    root,
    desiredName: 'api',
    nameFromEnv: true,
    machine: 'box',
    cwd: '/home/me/api',
    limits: { ...DEFAULT_LIMITS, ...limits },
    // Heartbeats are driven by the tests, never by a timer.
    heartbeatMs: 3_600_000,
    liveWindowMs: LIVE_WINDOW_MS,
  };
}

export interface Home {
  /** The temp RELAY_HOME of the running test. */
  readonly root: string;
  readonly clock: ManualClock;
  readonly problems: Problem[];
  /** Heartbeat failures a session reported (they are never thrown). */
  readonly errors: unknown[];
  /** A context acting as `name` without joining (like the CLI). */
  context(name: string, options?: Partial<ContextOptions>): RelayContext;
  /** A joined session, stopped after the test. */
  start(name: string, options?: Partial<ContextOptions>): Promise<RelaySession>;
  limits: Partial<Limits>;
}

/** Registers hooks that give each test its own RELAY_HOME (removed after) and stop its sessions. */
export function useHome(): Home {
  let root = '';
  let clock = new ManualClock();
  const problems: Problem[] = [];
  const errors: unknown[] = [];
  const sessions: RelaySession[] = [];
  const home: Home = {
    get root() {
      return root;
    },
    get clock() {
      return clock;
    },
    problems,
    errors,
    limits: {},
    context(name, options = {}) {
      return createContext({
        config: testConfig(root, home.limits),
        name,
        now: clock.now,
        isPidAlive: () => true,
        onProblem: (p) => problems.push(p),
        ...options,
      });
    },
    async start(name, options = {}) {
      const session = await RelaySession.start({
        config: testConfig(root, home.limits),
        name,
        now: clock.now,
        isPidAlive: () => true,
        onProblem: (p) => problems.push(p),
        onError: (e) => errors.push(e),
        ...options,
      });
      sessions.push(session);
      return session;
    },
  };
  beforeEach(async () => {
    root = await makeTempDir();
    clock = new ManualClock();
    problems.length = 0;
    errors.length = 0;
    home.limits = {};
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.stop().catch(() => {});
    await fs.rm(root, { recursive: true, force: true });
  });
  return home;
}

/** Every file under `dir`, as paths relative to it, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(sub: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(path.join(dir, sub), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const rel = sub === '' ? e.name : `${sub}/${e.name}`;
      if (e.isDirectory()) await walk(rel);
      else out.push(rel);
    }
  }
  await walk('');
  return out.sort();
}

export async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await fs.readFile(file, 'utf8'));
}

/** The RelayError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function refusal(p: Promise<unknown>): Promise<RelayError> {
  try {
    await p;
  } catch (e) {
    if (isRelayError(e)) return e;
    throw e;
  }
  throw new Error('expected a RelayError');
}

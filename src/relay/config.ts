import os from 'node:os';
import path from 'node:path';
import { toName, validateName } from '../log/names.js';
import { defaultRoot } from '../log/paths.js';
import { DEFAULT_LIMITS, type Limits } from '../projections/limits.js';
import { positiveInt } from './env.js';
import { type RemoteConfig, remoteFromEnv } from './remote/config.js';

/** Everything a relay session reads from its environment, resolved once at start. */
export interface RelayConfig {
  readonly root: string;
  /** The name asked for; the session may end up with `name-2` when another live session holds it. */
  readonly desiredName: string;
  /** True when the name came from RELAY_SESSION_NAME rather than the working directory. */
  readonly nameFromEnv: boolean;
  readonly machine: string;
  readonly cwd: string;
  readonly limits: Limits;
  readonly heartbeatMs: number;
  readonly liveWindowMs: number;
  /** The relay for other machines (RELAY_REMOTE_URL + RELAY_API_KEY); absent: this machine only. */
  readonly remote?: RemoteConfig;
}

export const HEARTBEAT_MS = 30_000;
export const LIVE_WINDOW_MS = 120_000;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): RelayConfig {
  const fromEnv = env.RELAY_SESSION_NAME;
  const nameFromEnv = fromEnv !== undefined && fromEnv !== '';
  const desiredName = nameFromEnv ? validateName(fromEnv, 'RELAY_SESSION_NAME') : toName(path.basename(cwd));
  const machineRaw = env.RELAY_MACHINE_NAME;
  const machine =
    machineRaw !== undefined && machineRaw !== ''
      ? validateName(machineRaw, 'RELAY_MACHINE_NAME')
      : toName(os.hostname(), 'localhost');
  const remote = remoteFromEnv(env);
  return {
    root: defaultRoot(env),
    desiredName,
    nameFromEnv,
    machine,
    cwd,
    limits: {
      maxBodyBytes: DEFAULT_LIMITS.maxBodyBytes,
      sendsPerMinute: positiveInt(env, 'RELAY_RATE_LIMIT', DEFAULT_LIMITS.sendsPerMinute),
      ttlMs: positiveInt(env, 'RELAY_TTL_SECONDS', DEFAULT_LIMITS.ttlMs / 1000) * 1000,
    },
    heartbeatMs: positiveInt(env, 'RELAY_HEARTBEAT_MS', HEARTBEAT_MS),
    liveWindowMs: LIVE_WINDOW_MS,
    ...(remote === undefined ? {} : { remote }),
  };
}

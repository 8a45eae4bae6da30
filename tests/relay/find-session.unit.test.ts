import { describe, expect, it } from 'vitest';
import type { HeartbeatEvent } from '../../src/log/events.js';
import { findSessionName } from '../../src/relay/find-session.js';
import { ancestorsOf, parentOf } from '../../src/relay/process-tree.js';

/** findSessionName over fabricated heartbeats: which session a hook belongs to. */

function beat(name: string, pid: number, ancestors?: number[], machine = 'box'): HeartbeatEvent {
  return {
    v: 1,
    kind: 'heartbeat',
    name,
    instance: 'abcd1234',
    at: '1700000000000-00000000',
    atMs: 1_700_000_000_000,
    pid,
    cwd: `/home/dev/${name}`,
    machine,
    startedAt: 1_700_000_000_000,
    joined: '1700000000000-00000000',
    ...(ancestors === undefined ? {} : { ancestors }),
  };
}

const byCwd = { machine: 'box', desiredName: 'hook-cwd', nameFromEnv: false };
const byEnv = { machine: 'box', desiredName: 'from-env', nameFromEnv: true };

// Two Claude Code windows (client pids 100 and 200) under one terminal (pid 10).
const live = [beat('api', 1001, [100, 10]), beat('web', 2001, [200, 10])];

describe('findSessionName', () => {
  it("picks the session whose serve shares the hook's nearest ancestor (its client)", () => {
    // A hook runs as client → sh → node: its ancestors, nearest first, are sh, the client, the terminal.
    expect(findSessionName(live, [150, 100, 10], byCwd, '/somewhere/else')).toBe('api');
    expect(findSessionName(live, [250, 200, 10], byCwd, '/somewhere/else')).toBe('web');
  });

  it('the ancestry wins over RELAY_SESSION_NAME and over the cwd', () => {
    expect(findSessionName(live, [200, 10], byEnv, '/home/dev/api')).toBe('web');
  });

  it("matches a serve that is itself the hook's ancestor", () => {
    expect(findSessionName(live, [1001, 100, 10], byCwd, '/x/y')).toBe('api');
  });

  it('ignores sessions of another machine and sessions that recorded no ancestors', () => {
    const others = [beat('remote', 1001, [100, 10], 'other-box'), beat('old', 100)];
    expect(findSessionName(others, [150, 100, 10], byCwd, '/home/dev/project')).toBe('project');
  });

  it('without a match: RELAY_SESSION_NAME, else the basename of the cwd, else the configured name', () => {
    expect(findSessionName(live, [7, 8], byEnv, '/home/dev/project')).toBe('from-env');
    expect(findSessionName(live, [7, 8], byCwd, '/home/dev/project')).toBe('project');
    expect(findSessionName([], [], byCwd, undefined)).toBe('hook-cwd');
  });

  it('turns a cwd basename into a valid session name, as serve does', () => {
    expect(findSessionName([], [], byCwd, '/home/dev/My Project!')).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/);
  });
});

describe('process tree', () => {
  it('reads real ancestors: the parent of this process is the first', () => {
    const chain = ancestorsOf(process.pid);
    expect(chain[0]).toBe(process.ppid);
    expect(parentOf(process.pid)).toBe(process.ppid);
    expect(chain).not.toContain(1);
  });

  it('a pid that does not exist has no parent', () => {
    expect(parentOf(2 ** 22 + 12345)).toBeUndefined();
  });
});

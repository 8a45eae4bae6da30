import fsCallback, { promises as fs } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { cleanStore } from '../../src/relay/clean.js';
import { applySweeps, expectNoLeftovers } from './clean.js';
import type { Cmd } from './cmd.js';
import {
  checkInvariants,
  type Model,
  type Msg,
  NAMES,
  type Name,
  queuedIn,
  type Real,
  reached,
  settle,
} from './world.js';

/** Crashes mid-operation at the file level: a send, a settle, a clean half way through packing, a process. */

export type CrashKind = 'temp' | 'settle' | 'packing' | 'kill';

const SIMULATED = 'ESIMULATEDCRASH';

function simulatedCrash(): NodeJS.ErrnoException {
  return Object.assign(new Error('simulated kill -9'), { code: SIMULATED });
}

function isSimulated(e: unknown): boolean {
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    if ((c as NodeJS.ErrnoException).code === SIMULATED) return true;
  }
  return false;
}

/**
 * Runs `clean`, killed at its `step`-th packing step: a move into `snapshots/packing-*`, a segment or
 * snapshot write (write-file-atomic's rename), or the removal of the staging folder. Resolves whether the
 * crash happened (a clean with fewer steps finishes).
 */
async function cleanKilledAt(real: Real, step: number): Promise<boolean> {
  const { rename, rm } = fs;
  const renameCallback = fsCallback.rename;
  let steps = 0;
  const due = () => ++steps === step;
  fs.rename = async (from, to) => {
    if (String(to).includes(`${path.sep}packing-`) && due()) throw simulatedCrash();
    return rename(from, to);
  };
  fs.rm = async (p, options) => {
    if (path.basename(String(p)).startsWith('packing-') && due()) throw simulatedCrash();
    return rm(p, options);
  };
  fsCallback.rename = ((from, to, callback) => {
    if (due()) return callback(simulatedCrash());
    return renameCallback(from, to, callback);
  }) as typeof fsCallback.rename;
  try {
    await cleanStore(real.cli);
    return false;
  } catch (e) {
    if (!isSimulated(e)) throw e;
    return true;
  } finally {
    Object.assign(fs, { rename, rm });
    fsCallback.rename = renameCallback;
  }
}

/**
 * A process dies mid-operation, at the file level: `temp` — a send killed before its link(2), leaving a
 * partial file in tmp/; `settle` — a poll killed between settling a message and archiving (and returning)
 * it: the message was consumed and must never be delivered again; `packing` — a clean killed half way
 * through packing, leaving `snapshots/packing-*` and its lock; `kill` — a session's process dies.
 */
export class CrashCommand implements Cmd {
  constructor(
    readonly kind: CrashKind,
    readonly pick: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    if (this.kind === 'settle') return NAMES.some((to) => queuedIn(m, to).length > 0);
    // A second crash while finishing the first one's staging is left out: the model could not tell
    // which of the sweeps ran.
    if (this.kind === 'packing') return !m.halfPacked;
    if (this.kind === 'kill') return m.sessions.get(NAMES[this.pick % NAMES.length] as Name)?.alive === true;
    return true;
  }
  async run(m: Model, real: Real): Promise<void> {
    const store = real.cli.store;
    if (this.kind === 'temp') {
      const dir = store.paths.dir('tmp');
      await fs.mkdir(dir, { recursive: true });
      const partial = JSON.stringify({ v: 1, kind: 'sent', key: 'x', body: 'half a message' }).slice(0, 30);
      await fs.writeFile(path.join(dir, `99999-${String(this.pick).padStart(12, '0')}.tmp`), partial, {
        flag: 'a',
      });
      m.tempFiles = (await store.filesIn('tmp')).length;
      reached.crashTemp++;
    } else if (this.kind === 'settle') {
      const all = NAMES.flatMap((to) => queuedIn(m, to)).sort((a, b) => (a.key < b.key ? -1 : 1));
      const victim = all[this.pick % all.length] as Msg;
      const by = { name: victim.to, machine: real.config.machine, pid: 99_999, instance: 'crashed0' };
      const won = await store.settle({
        v: 1,
        kind: 'consumed',
        key: victim.key,
        to: victim.to,
        atMs: m.now,
        via: 'poll',
        by,
      });
      expect(won).toBe(true);
      settle(m, victim.key, 'crashed');
      m.unarchived.add(victim.key);
      reached.crashSettle++;
    } else if (this.kind === 'packing') {
      const crashed = await cleanKilledAt(real, 1 + (this.pick % 6));
      applySweeps(m);
      const snapshots = store.paths.dir('snapshots');
      const packing = (await fs.readdir(snapshots)).filter((f) => f.startsWith('packing-'));
      m.halfPacked = packing.length > 0;
      if (crashed) {
        // kill -9 runs no finally: the lock stays behind, held by a pid that is now dead.
        await fs.writeFile(path.join(snapshots, 'clean.lock'), '3');
        if (m.halfPacked) reached.crashPacking++;
      } else {
        await expectNoLeftovers(real);
      }
    } else {
      const name = NAMES[this.pick % NAMES.length] as Name;
      real.alive.delete(real.pids.get(name) ?? -1);
      const s = m.sessions.get(name);
      if (s) s.alive = false;
      reached.crashKill++;
    }
    await checkInvariants(m, real, { counts: true });
  }
  toString(): string {
    return `crash(${this.kind}, ${this.pick})`;
  }
}

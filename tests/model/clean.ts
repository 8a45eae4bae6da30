import { promises as fs } from 'node:fs';
import { expect } from 'vitest';
import { cleanStore } from '../../src/relay/clean.js';
import type { Cmd } from './cmd.js';
import { checkInvariants, expireEligible, isLiveIn, type Model, NAMES, type Real, reached } from './world.js';

/** `clean` run to its end, and what its sweeps do to the model. */

/** What a clean that got past its sweeps did to the model, finished or not. */
export function applySweeps(m: Model): { expired: number; stale: number } {
  let expired = 0;
  for (const to of NAMES) expired += expireEligible(m, to);
  let stale = 0;
  for (const name of NAMES) {
    const s = m.sessions.get(name);
    if (s && !isLiveIn(m, name) && !s.markedLeft) {
      s.markedLeft = true;
      stale++;
    }
  }
  m.tempFiles = 0;
  m.unarchived.clear();
  return { expired, stale };
}

export async function expectNoLeftovers(real: Real): Promise<void> {
  expect(await real.cli.store.filesIn('tmp'), 'INV-ATOMIC: clean removes leftover temp files').toEqual([]);
  const snapshots = await fs.readdir(real.cli.store.paths.dir('snapshots'));
  expect(snapshots.filter((f) => f.startsWith('packing-') || f === 'clean.lock')).toEqual([]);
}

/** INV-COMPACT: `clean` changes no pending message (checkInvariants compares them with the model after). */
export class CleanCommand implements Cmd {
  check(): boolean {
    return true;
  }
  async run(m: Model, real: Real): Promise<void> {
    const archivable = m.unarchived.size;
    const temp = m.tempFiles;
    const report = await cleanStore(real.cli);
    const { expired, stale } = applySweeps(m);
    m.halfPacked = false;
    expect(report.expired).toBe(expired);
    expect(report.archived).toBe(archivable);
    expect(report.tempRemoved).toBe(temp);
    expect(report.staleSessions).toBe(stale);
    expect(report.quarantined).toEqual([]);
    if (expired > 0) reached.expiry++;
    await expectNoLeftovers(real);
    await checkInvariants(m, real, { counts: true });
  }
  toString(): string {
    return 'clean';
  }
}

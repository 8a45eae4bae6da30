import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RelayEvent } from '../../src/log/events.js';
import { readEventFile } from '../../src/log/read.js';
import { tempDir } from '../support/cleanup.js';
import { runCli, serve } from '../support/processes.js';

/** The events in sessions/<name>/, oldest first. */
async function sessionEvents(home: string, name: string): Promise<RelayEvent[]> {
  const dir = path.join(home, 'sessions', name);
  const out: RelayEvent[] = [];
  for (const file of (await fs.readdir(dir)).sort()) {
    const read = await readEventFile(path.join(dir, file));
    if (read.ok) out.push(read.event);
  }
  return out;
}

/** The session names a relay_sessions answer lists, `(you)` kept. */
function listed(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('  - '))
    .map((l) => l.slice(4, l.indexOf(' — ')));
}

describe('INV-LIVENESS across real processes', () => {
  it('INV-LIVENESS: a serve killed with SIGKILL is not listed as live by another session (its pid is dead, its heartbeat still fresh), and clean marks it as left', async () => {
    const home = await tempDir('relay-live-');
    const [watcher, victim] = await Promise.all([
      serve({ home, name: 'watcher' }),
      serve({ home, name: 'victim' }),
    ]);
    const before = await watcher.call('relay_sessions');
    expect(listed(before.text)).toEqual(['victim', 'watcher (you)']);
    expect(before.text).toContain(`pid ${victim.pid})`);

    await victim.kill('SIGKILL');
    const events = await sessionEvents(home, 'victim');
    const last = events[events.length - 1];
    expect(last?.kind, 'a kill -9 writes nothing').toBe('heartbeat');
    expect(Date.now() - (last?.kind === 'heartbeat' ? last.atMs : 0)).toBeLessThan(120_000);

    const after = await watcher.call('relay_sessions');
    expect(after.isError).toBe(false);
    expect(after.text.split('\n')[0]).toBe('1 active session(s):');
    expect(listed(after.text)).toEqual(['watcher (you)']);

    const cleaned = await runCli(['clean', '--json'], { env: { RELAY_HOME: home } });
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(JSON.parse(cleaned.stdout)).toMatchObject({ staleSessions: 1 });
  });

  it('INV-LIVENESS: a serve whose client closes it writes `left` and is no longer listed', async () => {
    const home = await tempDir('relay-live-');
    const [watcher, polite] = await Promise.all([
      serve({ home, name: 'watcher' }),
      serve({ home, name: 'polite' }),
    ]);
    expect(listed((await watcher.call('relay_sessions')).text)).toEqual(['polite', 'watcher (you)']);

    await polite.close();
    const events = await sessionEvents(home, 'polite');
    expect(events[events.length - 1]).toMatchObject({ kind: 'left', name: 'polite', reason: 'exit' });
    expect(listed((await watcher.call('relay_sessions')).text)).toEqual(['watcher (you)']);
  });

  it('INV-LIVENESS: a second serve asking for a held name gets "api-2" and is told so once, in its first relay_sessions answer; the name is free again once its holder is dead', async () => {
    const home = await tempDir('relay-live-');
    const api = await serve({ home, name: 'api' });
    const second = await serve({ home, name: 'api' });

    const first = (await second.call('relay_sessions')).text.split('\n');
    expect(first[0]).toBe('You are "api-2": "api" is held by another live session.');
    expect(first[1]).toBe('2 active session(s):');
    expect(listed(first.join('\n'))).toEqual(['api', 'api-2 (you)']);
    const again = await second.call('relay_sessions');
    expect(again.text.split('\n')[0], 'the notice is given once').toBe('2 active session(s):');

    await api.kill('SIGKILL');
    const third = await serve({ home, name: 'api' });
    const answer = await third.call('relay_sessions');
    expect(answer.text.split('\n')[0]).toBe('2 active session(s):');
    expect(listed(answer.text)).toEqual(['api (you)', 'api-2']);
  });
});

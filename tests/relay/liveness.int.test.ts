import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LIVE_WINDOW_MS } from '../../src/relay/config.js';
import { join } from '../../src/relay/membership.js';
import { readStatus } from '../../src/relay/status.js';
import { readJson, testConfig, useHome } from '../support/home.js';

const home = useHome();

describe('INV-LIVENESS: who holds a name', () => {
  it('given api is live, when a second api joins, then it gets api-2 and is told why', async () => {
    const first = await home.start('api');
    const second = await home.start('api');
    expect([first.name, first.renamedFrom]).toEqual(['api', undefined]);
    expect([second.name, second.renamedFrom]).toEqual(['api-2', 'api']);
    const third = await home.start('api');
    expect(third.name).toBe('api-3');
    expect((await first.sessions()).map((s) => s.name)).toEqual(['api', 'api-2', 'api-3']);
  });

  it('given api stopped, when api joins again, then the name is free', async () => {
    const first = await home.start('api');
    await first.stop();
    const files = await fs.readdir(`${home.root}/sessions/api`);
    expect(files).toHaveLength(1);
    expect(await readJson(`${home.root}/sessions/api/${files[0]}`)).toMatchObject({
      kind: 'left',
      reason: 'exit',
    });
    const again = await home.start('api');
    expect([again.name, again.renamedFrom]).toEqual(['api', undefined]);
  });

  it('stop writes left once, however often it is called', async () => {
    const s = await home.start('api');
    await s.stop();
    await s.stop();
    await s.heartbeat();
    const events = await Promise.all(
      (await fs.readdir(`${home.root}/sessions/api`)).map((f) => readJson(`${home.root}/sessions/api/${f}`)),
    );
    expect(events.map((e) => (e as { kind: string }).kind)).toEqual(['left']);
  });

  it('given api’s last heartbeat is over the window old, then a newcomer takes the name', async () => {
    await home.start('api');
    home.clock.advance(LIVE_WINDOW_MS + 1);
    expect((await home.start('api')).name).toBe('api');
  });

  it('given api’s heartbeat is a millisecond inside the window, then it still holds the name', async () => {
    await home.start('api');
    home.clock.advance(LIVE_WINDOW_MS - 1);
    expect((await home.start('api')).name).toBe('api-2');
  });

  it('given api’s heartbeat is exactly the window old (no longer under 2 minutes), then a newcomer takes it', async () => {
    await home.start('api');
    home.clock.advance(LIVE_WINDOW_MS);
    expect((await home.start('api')).name).toBe('api');
  });

  it('given api’s pid is dead on this machine, then a newcomer takes the name', async () => {
    await home.start('api', { pid: 424_242 });
    const checked: number[] = [];
    const isPidAlive = (pid: number) => {
      checked.push(pid);
      return pid !== 424_242;
    };
    expect((await home.start('api', { isPidAlive })).name).toBe('api');
    expect(checked).toContain(424_242);
  });

  it('given api runs on another machine, then its pid is not checked here', async () => {
    await home.start('api', { config: { ...testConfig(home.root), machine: 'far' }, pid: 424_242 });
    const newcomer = await home.start('api', { isPidAlive: () => false });
    expect(newcomer.name).toBe('api-2');
  });

  it('given heartbeats keep api fresh, then it holds the name past the window', async () => {
    const api = await home.start('api');
    for (let i = 0; i < 5; i++) {
      home.clock.advance(LIVE_WINDOW_MS / 2);
      await api.heartbeat();
    }
    expect((await home.start('api')).name).toBe('api-2');
  });

  it('status shows live and dead sessions, the live first', async () => {
    await home.start('web', { pid: 424_242 });
    const api = await home.start('api');
    const view = { ...api.ctx, isPidAlive: (pid: number) => pid !== 424_242 };
    const status = await readStatus(view);
    expect(status.sessions.map((s) => [s.name, s.live, s.pid])).toEqual([
      ['api', true, process.pid],
      ['web', false, 424_242],
    ]);
  });

  it('given B joins completely between A’s look at the claims and A’s claim, then A moves on to api-2', async () => {
    // A reads the claims, finds api free, and is paused; B joins api completely with a later clock. A's
    // claim on the same generation then fails (exclusive create), A looks again and finds B live.
    const a = home.context('api');
    const b = home.context('api', { now: () => home.clock.now() + 5 });
    const look = a.store.topClaim.bind(a.store);
    let looks = 0;
    a.store.topClaim = async (name: string) => {
      const seen = await look(name);
      if (looks++ === 0) await join(b, 'api');
      return seen;
    };
    const joinedA = await join(a, 'api');
    expect(looks).toBeGreaterThan(1);
    expect(joinedA.name).toBe('api-2');
  });

  it('given eight sessions join one name at once, then each gets a distinct name', async () => {
    const contexts = Array.from({ length: 8 }, () => home.context('api'));
    const names = (await Promise.all(contexts.map((c) => join(c, 'api')))).map((me) => me.name);
    expect(new Set(names).size).toBe(8);
    expect(names).toContain('api');
  });
});

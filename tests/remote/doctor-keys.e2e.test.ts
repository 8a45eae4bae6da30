import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { filesUnder } from '../support/home.js';
import { runCli } from '../support/processes.js';
import { addKey, freePort, PrivateNats, startRelay } from '../support/remote.js';
import { waitFor } from '../support/wait.js';

/**
 * `doctor` and `status` against a real relay with good, garbage and revoked keys; doctor leaves no trace in
 * the store; a NATS relay started while NATS is down listens at once and connects when NATS comes.
 */

async function world() {
  const data = await tempDir();
  const key = await addKey(data, 'laptop');
  const relay = await startRelay({ data });
  const home = await tempDir();
  const env = (apiKey: string) => ({
    RELAY_HOME: home,
    HOME: home,
    RELAY_MACHINE_NAME: 'laptop',
    RELAY_REMOTE_URL: relay.url,
    RELAY_API_KEY: apiKey,
  });
  return { data, key, relay, home, env };
}

function remoteLine(stdout: string): string {
  return stdout.split('\n').find((l) => l.includes('remote relay')) ?? '';
}

describe('doctor and status with the relay', () => {
  it('doctor passes a good key, and fails on a garbage key and on a revoked one with one sentence', async () => {
    const w = await world();
    const good = await runCli(['doctor'], { env: w.env(w.key), cwd: w.home });
    expect(remoteLine(good.stdout)).toMatch(/^ok +remote relay: .* accepts this machine's API key$/);
    expect(good.code).toBe(0);

    const garbage = await runCli(['doctor'], { env: w.env(`crk_${'A'.repeat(43)}`), cwd: w.home });
    expect(garbage.code).toBe(1);
    expect(remoteLine(garbage.stdout)).toMatch(
      /^FAIL remote relay: .* refuses this machine's API key \(.*\)$/,
    );

    const revoked = await runCli(['relay', 'keys', 'revoke', 'laptop', '--data', w.data]);
    expect(revoked.code, revoked.stderr).toBe(0);
    await waitFor('the relay to refuse the revoked key', async () => {
      const ran = await runCli(['doctor'], { env: w.env(w.key), cwd: w.home });
      return ran.code === 1 && /refuses this machine's API key/.test(remoteLine(ran.stdout));
    });
  });

  it('status does not call a relay that refuses the key reachable while sends wait', async () => {
    const w = await world();
    const env = w.env(`crk_${'B'.repeat(43)}`);
    const sent = await runCli(['send', 'laptop-peer', 'hello', '--from', 'ops'], {
      env: { ...env, RELAY_REMOTE_URL: w.relay.url },
    });
    expect(sent.stdout).toMatch(
      /^queued \(the relay refused this machine's API key; .*\) #[a-z0-9]{6} to laptop-peer\n$/,
    );
    const status = await runCli(['status'], { env });
    const line = remoteLine(status.stdout);
    expect(line).not.toContain('reachable');
    expect(line).toMatch(/answers, but it refuses this machine's API key/);
    expect(status.stdout).toContain('1 send(s) waiting in the outbox');
  });

  it('each doctor run leaves nothing behind in the store', async () => {
    const home = await tempDir();
    const env = { RELAY_HOME: home, HOME: home };
    const first = await runCli(['doctor'], { env, cwd: home });
    expect(first.code, first.stdout).toBe(0);
    const after = await filesUnder(home);
    const again = await runCli(['doctor'], { env, cwd: home });
    expect(again.code).toBe(0);
    expect(await filesUnder(home)).toEqual(after);
    expect(after.filter((f) => f.includes('doctor-'))).toEqual([]);
    const status = await runCli(['status'], { env });
    expect(status.stdout).not.toContain('doctor-');
  });
});

describe('a NATS relay started while NATS is down', () => {
  it('listens at once, answers /health 503 with the reason, and connects once NATS is up', async () => {
    const nats = await PrivateNats.start();
    await nats.stop();
    const port = await freePort();
    const relay = await startRelay({ data: await tempDir(), port, backend: 'nats', natsUrl: nats.url });
    const down = await fetch(`${relay.url}/health`);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { backend: { ok: boolean; detail?: string } };
    expect(body.backend).toMatchObject({ ok: false });
    expect(body.backend.detail).toContain(`NATS at ${nats.url}`);
    await nats.restart();
    await waitFor('the relay to reach NATS', async () =>
      (await fetch(`${relay.url}/health`)).status === 200 ? true : undefined,
    );
  });
});

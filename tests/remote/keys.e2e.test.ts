import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { runCli } from '../support/processes.js';

/** `claude-relay relay keys add | list | revoke`, as an operator runs them. */

describe('relay keys', () => {
  it('INV-REMOTE-AUTH: add prints a key once and stores only its hash; list shows fingerprints; revoke removes them', async () => {
    const data = await tempDir();
    const added = await runCli(['relay', 'keys', 'add', 'server-2', '--data', data]);
    expect(added.code).toBe(0);
    const key = /\b(crk_[A-Za-z0-9_-]{43})\b/.exec(added.stdout)?.[1];
    expect(key, added.stdout).toBeDefined();
    if (!key) return;
    const json = await runCli(['relay', 'keys', 'add', 'server-2', '--data', data, '--json']);
    const second = JSON.parse(json.stdout) as { machine: string; key: string; fingerprint: string };
    expect(second).toMatchObject({
      machine: 'server-2',
      fingerprint: expect.stringMatching(/^[0-9a-f]{8}$/),
    });
    expect(second.key).not.toBe(key);

    const stored = await fs.readFile(path.join(data, 'keys.json'), 'utf8');
    expect(stored).not.toContain(key);
    expect(stored).not.toContain(second.key);
    const listed = await runCli(['relay', 'keys', 'list', '--data', data]);
    expect(listed.stdout).toMatch(
      /^2 API key\(s\) in .*keys\.json:\n {2}- server-2 {2}[0-9a-f]{8}… {2}made /,
    );
    expect(listed.stdout).not.toContain(key);

    const bad = await runCli(['relay', 'keys', 'add', '../etc', '--data', data]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^claude-relay: Expected `machine` to be a session name .*\.\n$/);

    const revoked = await runCli(['relay', 'keys', 'revoke', 'server-2', '--data', data]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('Revoked 2 key(s) of machine "server-2"');
    const again = await runCli(['relay', 'keys', 'revoke', 'server-2', '--data', data]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no key for machine "server-2"');
    expect((await runCli(['relay', 'keys', 'list', '--data', data])).stdout).toMatch(/^No API keys in /);
  });
});

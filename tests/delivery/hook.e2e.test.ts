import { promises as fs, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SentEvent } from '../../src/log/events.js';
import { loadConfig } from '../../src/relay/config.js';
import { HOOK_MAX_BYTES } from '../../src/relay/hook.js';
import { sendMessage } from '../../src/relay/send.js';
import { createContext } from '../../src/relay/serve-session.js';
import { tempDir } from '../support/cleanup.js';
import { childEnv } from '../support/env.js';
import { CLI, HOOK_FIXTURES } from '../support/paths.js';
import { runCli, spawnCli } from '../support/processes.js';
import { joinOnce, sentTo, settledOf } from '../support/store.js';
import { waitFor } from '../support/wait.js';

/**
 * `claude-relay hook` fed the events Claude Code sends, checked byte for byte against
 * tests/fixtures/hooks (see its README for the format and the `{{IDn}}` placeholder).
 */

interface Mail {
  readonly from: string;
  readonly type?: string;
  readonly body: string;
  readonly replyTo?: string;
}

const GOLDEN = 'golden';
const cases = readdirSync(HOOK_FIXTURES)
  .filter((f) => f.endsWith('.input.json'))
  .map((f) => f.slice(0, -'.input.json'.length))
  .sort();

/** Sends `mail` to `to` in order, each as its sender; one clock, so the order is the delivery order. */
async function deliverMail(root: string, to: string, mail: readonly Mail[]): Promise<SentEvent[]> {
  const base = createContext({ config: loadConfig({ RELAY_HOME: root }, root), name: 'user' });
  const sent: SentEvent[] = [];
  for (const m of mail) {
    const ctx = { ...base, me: { ...base.me, name: m.from } };
    const { event } = await sendMessage(ctx, { to, message: m.body, type: m.type, replyTo: m.replyTo });
    sent.push(event);
  }
  return sent;
}

function hook(root: string, input: string, extra: Record<string, string> = {}) {
  return runCli(['hook'], { env: childEnv({ RELAY_HOME: root, HOME: root, ...extra }), input });
}

async function store(): Promise<string> {
  const root = await tempDir();
  await joinOnce(root, GOLDEN);
  return root;
}

describe('hook golden files', () => {
  it('has golden cases to replay', () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
  });

  it.each(cases)('INV-HOOK-SILENT / INV-VIA: golden %s', async (name) => {
    const read = (ext: string) => fs.readFile(path.join(HOOK_FIXTURES, `${name}.${ext}`), 'utf8');
    const input = await read('input.json');
    const mail = JSON.parse(await read('mail.json')) as Mail[];
    const root = await store();
    const sent = await deliverMail(root, GOLDEN, mail);
    const expected = sent.reduce(
      (text, m, i) => text.replaceAll(`{{ID${i + 1}}}`, m.id),
      await read('expected'),
    );
    expect(expected).not.toMatch(/\{\{ID\d+\}\}/);

    const ran = await hook(root, input);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe(expected);

    const settled = await settledOf(root, GOLDEN);
    if (expected === '') {
      // Nothing shown, nothing taken.
      expect(settled.size).toBe(0);
      return;
    }
    for (const m of sent) expect(settled.get(m.key)).toMatchObject({ kind: 'consumed', via: 'hook' });
    const again = await hook(root, input);
    expect(again.stdout).toBe('');
    expect(again.code).toBe(0);
  });
});

describe('claude-relay hook', () => {
  const prompt = (cwd = '/home/dev/projects/golden') =>
    JSON.stringify({
      session_id: 's1',
      transcript_path: '/tmp/t.jsonl',
      cwd,
      hook_event_name: 'UserPromptSubmit',
      prompt: 'hi',
    });

  it('INV-HOOK-SILENT: prints zero bytes on a store that does not exist yet', async () => {
    const root = path.join(await tempDir(), 'never-created');
    const ran = await hook(root, prompt());
    expect(ran).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('INV-HOOK-SILENT: Stop with stop_hook_active prints nothing and takes nothing, so the agent can stop', async () => {
    const root = await store();
    const [m] = await deliverMail(root, GOLDEN, [{ from: 'api', body: 'still waiting' }]);
    const stop = (active: boolean) =>
      JSON.stringify({
        session_id: 's1',
        cwd: '/x/golden',
        hook_event_name: 'Stop',
        stop_hook_active: active,
      });
    expect(await hook(root, stop(true))).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await settledOf(root, GOLDEN)).toHaveProperty('size', 0);
    // The message is still there for the next Stop that may block.
    const blocked = JSON.parse((await hook(root, stop(false))).stdout) as {
      decision: string;
      reason: string;
    };
    expect(blocked.decision).toBe('block');
    expect(blocked.reason).toContain(`#${m?.id} still waiting`);
  });

  it.each([
    ['not JSON', 'this is not json', /expected a hook event as JSON on stdin.*got "this is not json"/],
    ['nothing', '', /expected a hook event as JSON on stdin.*got none/],
    ['JSON without hook_event_name', '{"session_id":"s1"}', /no "hook_event_name"/],
    ['JSON that is not an object', '42', /no "hook_event_name"/],
  ])(
    'INV-HOOK-SILENT: bad stdin (%s): one sentence on stderr, nothing on stdout, exit 0',
    async (_what, input, error) => {
      const root = await store();
      await deliverMail(root, GOLDEN, [{ from: 'api', body: 'untouched' }]);
      const ran = await hook(root, input);
      expect(ran.code).toBe(0);
      expect(ran.stdout).toBe('');
      expect(ran.stderr).toMatch(error);
      expect(ran.stderr.trim().split('\n')).toHaveLength(1);
      expect(await settledOf(root, GOLDEN)).toHaveProperty('size', 0);
    },
  );

  it('INV-HOOK-SILENT: an unwritable store is reported on stderr and still exits 0', async () => {
    const root = await tempDir();
    await fs.writeFile(path.join(root, 'sessions'), 'not a folder');
    const ran = await hook(root, prompt());
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toMatch(/^claude-relay/);
  });

  it('a stray file among the session folders does not keep mail from its session', async () => {
    const root = await store();
    await deliverMail(root, GOLDEN, [{ from: 'api', body: 'past the stray file' }]);
    await fs.writeFile(path.join(root, 'sessions', '.DS_Store'), 'finder');
    const ran = await hook(root, prompt('/home/dev/projects/golden'));
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('past the stray file');
  });

  it('without a matching serve, RELAY_SESSION_NAME names the session, else the basename of the cwd', async () => {
    const root = await tempDir();
    for (const n of ['named', 'from-cwd']) await joinOnce(root, n);
    await deliverMail(root, 'named', [{ from: 'api', body: 'for named' }]);
    await deliverMail(root, 'from-cwd', [{ from: 'api', body: 'for from-cwd' }]);
    const byEnv = await hook(root, prompt('/home/dev/from-cwd'), { RELAY_SESSION_NAME: 'named' });
    expect(byEnv.stdout).toContain('for named');
    expect(byEnv.stdout).not.toContain('for from-cwd');
    const byCwd = await hook(root, prompt('/home/dev/from-cwd'));
    expect(byCwd.stdout).toContain('for from-cwd');
  });

  it('INV-ONCE: keeps a batch under the hook budget and says how many wait; the next event brings the rest', async () => {
    const root = await store();
    const body = 'x'.repeat(Math.floor(HOOK_MAX_BYTES / 2) - 100);
    const sent = await deliverMail(root, GOLDEN, [
      { from: 'api', body: `1${body}` },
      { from: 'api', body: `2${body}` },
      { from: 'api', body: `3${body}` },
    ]);
    const first = await hook(root, prompt());
    expect(first.stdout).toContain('2 new message(s)');
    expect(first.stdout).toMatch(/\(1 more waiting, \d+ KB: call relay_poll\)/);
    const second = await hook(root, prompt());
    expect(second.stdout).toContain(`#${sent[2]?.id} 3x`);
    expect((await hook(root, prompt())).stdout).toBe('');
  });
});

describe('hook: the session of the client that runs it', () => {
  interface Parent {
    runHook(event: object): Promise<{ code: number; stdout: string; stderr: string }>;
  }

  /** A stand-in client (tests/fixtures/hooks/parent.mjs) running a serve named `name`, and hooks on request. */
  async function startParent(root: string, name: string, hookCwd: string): Promise<Parent> {
    const parent = spawnCli([], {
      env: childEnv({ RELAY_HOME: root, HOME: root }),
      command: [path.join(HOOK_FIXTURES, 'parent.mjs'), CLI, name, hookCwd],
    });
    const servePid = await waitFor('the stand-in client to start its serve', () => {
      const first = parent.stdout().split('\n')[0];
      return first?.startsWith('{') ? (JSON.parse(first) as { serve: number }).serve : undefined;
    });
    // The serve has joined once its heartbeat, which records its ancestors, is in the store.
    await waitFor(`${name}'s heartbeat`, async () => {
      const dir = path.join(root, 'sessions', name);
      for (const f of await fs.readdir(dir).catch(() => [] as string[])) {
        const beat = JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as {
          pid: number;
          ancestors?: number[];
        };
        if (beat.pid === servePid && (beat.ancestors?.length ?? 0) > 0) return true;
      }
      return false;
    });
    let runs = 0;
    return {
      async runHook(event) {
        runs++;
        parent.process.stdin?.write(`hook ${JSON.stringify(event)}\n`);
        const line = await waitFor(
          'the hook to finish',
          () => parent.stdout().split('\n').filter(Boolean)[runs],
        );
        return JSON.parse(line) as { code: number; stdout: string; stderr: string };
      },
    };
  }

  it('INV-ONCE: a hook gets the mail of the serve its own client started, whatever its cwd', async () => {
    const root = await tempDir();
    const elsewhere = path.join(await tempDir(), 'elsewhere');
    await fs.mkdir(elsewhere);
    // Two clients, each with its own serve; both are children of this test process, so only the nearest
    // shared ancestor tells them apart.
    const x = await startParent(root, 'apix', elsewhere);
    const y = await startParent(root, 'apiy', elsewhere);
    await deliverMail(root, 'apix', [{ from: 'user', body: 'for apix only' }]);
    await deliverMail(root, 'apiy', [{ from: 'user', body: 'for apiy only' }]);
    await joinOnce(root, 'elsewhere');
    await deliverMail(root, 'elsewhere', [{ from: 'user', body: 'for the cwd name' }]);

    const event = { session_id: 's1', cwd: elsewhere, hook_event_name: 'UserPromptSubmit', prompt: 'hi' };
    const fromX = await x.runHook(event);
    expect(fromX.stderr).toBe('');
    const context = (JSON.parse(fromX.stdout) as { hookSpecificOutput: { additionalContext: string } })
      .hookSpecificOutput.additionalContext;
    expect(context).toContain('From user: #');
    expect(context).toContain('for apix only');
    expect(context).not.toContain('for apiy only');
    expect(context).not.toContain('for the cwd name');

    const fromY = await y.runHook(event);
    expect(fromY.stdout).toContain('for apiy only');
    expect((await sentTo(root, 'elsewhere')).length).toBe(1);
    expect(await settledOf(root, 'elsewhere')).toHaveProperty('size', 0);
  });
});

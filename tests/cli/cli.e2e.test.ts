import { promises as fs } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { REPO } from '../support/paths.js';
import { type Ran, runCli, serve } from '../support/processes.js';

const pkg = JSON.parse(await fs.readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string };

/** The built CLI, run as a person at a terminal would, against a temp store and a temp HOME. */
describe('claude-relay CLI (built, real processes)', () => {
  let root: string;
  let env: Record<string, string>;
  let home: string;

  beforeEach(async () => {
    root = await tempDir('relay-cli-');
    home = path.join(root, 'home');
    await fs.mkdir(path.join(home, 'projects', 'api'), { recursive: true });
    await fs.mkdir(path.join(home, 'projects', 'web'), { recursive: true });
    env = { RELAY_HOME: path.join(root, 'relay'), HOME: home };
  });

  const run = (...args: string[]) => runCli(args, { env });
  const ok = (r: Ran) => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };
  const serveAs = (name: string) =>
    serve({ home: env.RELAY_HOME as string, name, cwd: path.join(home, 'projects', name), env });

  it('`version` and `--version` print the package version', async () => {
    const [version, flag] = await Promise.all([run('version'), run('--version')]);
    expect(ok(version)).toBe(`${pkg.version}\n`);
    expect(ok(flag)).toBe(`${pkg.version}\n`);
  });

  it('`serve` whose store cannot be written exits 1 with one sentence, though it answers before joining', async () => {
    const file = path.join(root, 'not-a-directory');
    await fs.writeFile(file, '');
    const r = await runCli(['serve'], { env: { ...env, RELAY_HOME: path.join(file, 'relay') } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^claude-relay: .+\n$/);
    expect(r.stdout).toBe('');
  });

  it('`serve --push` with a bad mode exits 1 with the choices and leaves no live session behind', async () => {
    const r = await runCli(['serve', '--push', 'loud'], { env, input: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deliver, notify or off');
    const status = JSON.parse(ok(await run('status', '--json'))) as { sessions: unknown[] };
    expect(status.sessions).toEqual([]);
  });

  it('`--help` of every command shows its usage; send and poll show their options exactly', async () => {
    const top = ok(await run('--help'));
    expect(top.startsWith('Usage: claude-relay [options] [command]\n')).toBe(true);
    const commands = top
      .slice(top.indexOf('Commands:'))
      .split('\n')
      .slice(1)
      .map((l) => /^ {2}([a-z]+)\b/.exec(l)?.[1])
      .filter((c): c is string => c !== undefined && c !== 'help');
    for (const seed of ['serve', 'status', 'clean', 'version', 'send', 'poll'])
      expect(commands).toContain(seed);
    const helps = await Promise.all(commands.map((c) => run(c, '--help')));
    for (const [i, r] of helps.entries()) {
      const text = ok(r);
      expect(text.split('\n')[0]).toMatch(new RegExp(`^Usage: claude-relay ${commands[i]}\\b`));
      expect(text).toContain('-h, --help');
    }
    const send = ok(helps[commands.indexOf('send')] as Ran);
    expect(send).toBe(
      [
        'Usage: claude-relay send [options] <to> <message>',
        '',
        'send a message to a session, as a person at the terminal',
        '',
        'Arguments:',
        '  to               session name',
        '  message          text to send',
        '',
        'Options:',
        '  --from <name>    sender name (default: "user")',
        '  --type <type>    request | info | response (default: "info")',
        '  --reply-to <id>  id of the message this answers',
        '  -h, --help       display help for command',
        '',
      ].join('\n'),
    );
    const poll = ok(helps[commands.indexOf('poll')] as Ran);
    expect(poll).toBe(
      [
        'Usage: claude-relay poll [options]',
        '',
        "take a session's new messages (consumes them)",
        '',
        'Options:',
        "  --name <name>  whose inbox (default: this directory's session name)",
        '  --json         print JSON',
        '  -h, --help     display help for command',
        '',
      ].join('\n'),
    );
  });

  it('INV-ONCE, INV-FROM: `send` and `poll --name` carry messages between a terminal and a serve session', async () => {
    const [api, web] = await Promise.all([serveAs('api'), serveAs('web')]);

    const sent = ok(
      await run('send', 'api', 'Run the migrations, please', '--from', 'ops', '--type', 'request'),
    );
    const id = /^sent #([a-z0-9]{6}) to api\n$/.exec(sent)?.[1];
    expect(id, sent).toBeDefined();
    expect((await api.call('relay_poll')).text).toBe(
      `1 new message(s):\n  [request|local|cli] From ops: #${id} Run the migrations, please`,
    );

    const reply = await api.call('relay_send', { to: 'web', message: 'Migrations done.\nAll green.' });
    const replyId = /^Sent #([a-z0-9]{6}) to web\.$/.exec(reply.text)?.[1];
    expect(replyId, reply.text).toBeDefined();
    expect(ok(await run('poll', '--name', 'web'))).toBe(
      `1 new message(s):\n  [info|local] From api: #${replyId} Migrations done.\n    All green.\n`,
    );
    expect(JSON.parse(ok(await run('poll', '--name', 'web', '--json')))).toEqual({
      messages: [],
      remaining: 0,
    });
    expect((await web.call('relay_poll')).text, 'taken at the terminal, not again by the session').toBe(
      'No new messages.',
    );

    await web.close();
    expect(ok(await run('send', 'web', 'for later'))).toMatch(
      /^queued \(not live now\) #[a-z0-9]{6} to web\n$/,
    );
    const [message] = (
      JSON.parse(ok(await run('poll', '--name', 'web', '--json'))) as {
        messages: { from: string; to: string; body: string; type: string }[];
      }
    ).messages;
    expect(message).toMatchObject({ from: 'user', to: 'web', body: 'for later', type: 'info' });
  });

  it('`send` to a name that has not joined yet queues it, says so with the closest live name, and the session gets it when it starts', async () => {
    for (const name of ['carl', 'carol'])
      await fs.mkdir(path.join(home, 'projects', name), { recursive: true });
    await serveAs('carl');
    const typo = ok(await run('send', 'carol', 'notes for the next session'));
    expect(typo).toMatch(
      /^Queued #[a-z0-9]{6} for carol: no session of that name has joined yet \(did you mean "carl"\?\)\n$/,
    );
    expect(ok(await run('send', 'newcomer', 'hello'))).toMatch(
      /^Queued #[a-z0-9]{6} for newcomer: no session of that name has joined yet\.\n$/,
    );
    const carol = await serveAs('carol');
    expect((await carol.call('relay_poll')).text).toMatch(
      /From user: #[a-z0-9]{6} notes for the next session$/,
    );
  });

  it('INV-COMPACT: `status` and `status --json` show live sessions and inbox counts; `clean` keeps unread messages', async () => {
    const api = await serveAs('api');
    const web = await serveAs('web');
    await api.call('relay_send', { to: 'web', message: 'read me' });
    await web.call('relay_send', { to: 'api', message: 'delivered one' });
    await api.call('relay_poll');
    await web.close();

    const normalise = (text: string) =>
      text
        .split(env.RELAY_HOME as string)
        .join('<home>')
        .replace(/\(\d+(\.\d)? (B|KiB|MiB)\)/, '(<size>)')
        .replace(`pid ${api.pid}`, 'pid <pid:api>')
        .replace(/\bup (<1m|\d+m)/, 'up <uptime>');
    const before = normalise(ok(await run('status')));
    expect(before).toBe(
      [
        'store <home> (<size>) on testhost',
        '1 live session(s):',
        '  - api — ~/projects/api (up <uptime>, pid <pid:api>, relay-tests 1.0.0)',
        'inboxes (queued / handed to the client / returned to the model / expired):',
        '  - api: 0 / 0 / 1 / 0',
        '  - web: 1 / 0 / 0 / 0',
        'remote relay: not configured (set RELAY_REMOTE_URL and RELAY_API_KEY to reach other machines)',
        '',
      ].join('\n'),
    );
    const json = JSON.parse(ok(await run('status', '--json')));
    expect(json).toMatchObject({
      root: env.RELAY_HOME,
      machine: 'testhost',
      tempFiles: 0,
      sessions: [{ name: 'api', live: true, pid: api.pid, machine: 'testhost', client: 'relay-tests 1.0.0' }],
      inboxes: [
        { name: 'api', queued: 0, delivered: 1, expired: 0 },
        { name: 'web', queued: 1, delivered: 0, expired: 0 },
      ],
      deliveries: [
        { name: 'api', handed: 0, returned: 1 },
        { name: 'web', handed: 0, returned: 0 },
      ],
    });
    expect(json.sessions).toHaveLength(1);

    const cleaned = ok(await run('clean'));
    expect(cleaned.split('\n').slice(1).join('\n')).toBe(
      [
        '  archived 1 delivered or expired message(s) into snapshots/segment-<stamp>.jsonl',
        '  expired 0 unread message(s) past their TTL',
        '  marked 0 dead session(s) as left; dropped 1 ended session(s)',
        '  removed 0 leftover temporary file(s)',
        '',
      ]
        .join('\n')
        .replace('<stamp>', /segment-(\d{13}-\d{8})\.jsonl/.exec(cleaned)?.[1] ?? '?'),
    );
    const after = JSON.parse(ok(await run('status', '--json')));
    expect(after.inboxes, 'counts survive clean').toEqual(json.inboxes);
    expect(after.deliveries, 'paths survive clean').toEqual(json.deliveries);
    const unread = JSON.parse(ok(await run('poll', '--name', 'web', '--json')));
    expect(
      unread.messages.map((m: { body: string }) => m.body),
      'unread survives clean',
    ).toEqual(['read me']);
  });

  it('INV-CONFINED: a bad argument prints one sentence on stderr and exits non-zero', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['send', '../x', 'hi'], {}, /^claude-relay: Expected `to` to be a session name .*, got "\.\.\/x"\.$/],
      [['send', 'api', 'hi', '--from', 'CON'], {}, /^claude-relay: Expected `--from` to be .*, got "CON"\.$/],
      [
        ['poll', '--name', '../../etc'],
        {},
        /^claude-relay: Expected `name` to be .*, got "\.\.\/\.\.\/etc"\.$/,
      ],
      [
        ['send', 'api', 'hi', '--type', 'loud'],
        {},
        /^claude-relay: Expected `type` to be one of .*, got "loud"\.$/,
      ],
      [
        ['send', 'api', 'hi'],
        { RELAY_RATE_LIMIT: 'many' },
        /^claude-relay: RELAY_RATE_LIMIT must be .*; fix or unset it\.$/,
      ],
    ];
    const results = await Promise.all(
      cases.map(([args, extra]) => runCli(args, { env: { ...env, ...extra } })),
    );
    for (const [i, r] of results.entries()) {
      const [args, , pattern] = cases[i] as (typeof cases)[number];
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr.endsWith('\n') && r.stderr.split('\n').length, `${args.join(' ')}: ${r.stderr}`).toBe(
        2,
      );
      expect(r.stderr.trimEnd()).toMatch(pattern);
    }
    // Usage errors come from the argument parser: the sentence, then where to find the usage.
    const [missing, unknown] = await Promise.all([run('send', 'api'), run('frobnicate')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toBe("error: missing required argument 'message'\n(run with --help for usage)\n");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toBe("error: unknown command 'frobnicate'\n(run with --help for usage)\n");
  });
});

import { Command, CommanderError } from 'commander';
import { packageVersion } from '../version.js';
import { reportFailure } from './failure.js';

/**
 * The commander program of `claude-relay`. Each command lives in its own module, loaded only when it runs
 * (so `serve` starts fast), and resolves an exit code. Importing this module runs nothing: `main.ts` runs it.
 */
type Run = (...args: never[]) => Promise<number>;

function lazy(load: () => Promise<{ run: Run }>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const { run } = await load();
    process.exitCode = await run(...(args as never[]));
  };
}

export function buildProgram(): Command {
  const program = new Command('claude-relay')
    .description('Message passing between AI coding sessions (MCP server and CLI).')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('serve')
    .description('run the MCP server over stdio (your MCP client starts this)')
    .option(
      '--push <mode>',
      'push: native | deliver | notify | off (default: native in Claude Code 2.1.224+, notify in older, else off)',
    )
    .action(lazy(() => import('./commands/serve.js')));

  program
    .command('status')
    .description('show live sessions, unread messages per inbox and store size')
    .option('--json', 'print JSON')
    .action(lazy(() => import('./commands/status.js')));

  program
    .command('clean')
    .description('archive delivered and expired messages, drop dead sessions, write a snapshot')
    .option('--json', 'print JSON')
    .action(lazy(() => import('./commands/clean.js')));

  program
    .command('version')
    .description('print the version')
    .action(async () => {
      process.stdout.write(`${packageVersion()}\n`);
    });

  program
    .command('send')
    .description('send a message to a session, as a person at the terminal')
    .argument('<to>', 'session name')
    .argument('<message>', 'text to send')
    .option('--from <name>', 'sender name', 'user')
    .option('--type <type>', 'request | info | response', 'info')
    .option('--reply-to <id>', 'id of the message this answers')
    .action(lazy(() => import('./commands/send.js')));

  program
    .command('poll')
    .description("take a session's new messages (consumes them)")
    .option('--name <name>', "whose inbox (default: this directory's session name)")
    .option('--json', 'print JSON')
    .action(lazy(() => import('./commands/poll.js')));

  program
    .command('hook')
    .description('deliver unread messages from a client hook (reads the hook event JSON on stdin)')
    .option('--client <client>', 'claude | codex | gemini | cursor (default: told from the event)')
    .action(lazy(() => import('./commands/hook.js')));

  program
    .command('watch')
    .description('follow an inbox as messages arrive, without taking them')
    .argument('[name]', "whose inbox (default: this directory's session name)")
    .option('--consume', 'take the messages (each is then delivered here only)')
    .action(lazy(() => import('./commands/watch.js')));

  program
    .command('dashboard')
    .description('serve a live page of sessions and messages on 127.0.0.1 (URL with its token printed)')
    .option('--port <port>', 'TCP port (0: any free one)', '0')
    .option('--open', 'open the page in the browser')
    .action(lazy(() => import('./commands/dashboard.js')));

  program
    .command('doctor')
    .description("check the store, the clock, this session's name, each delivery path and the remote relay")
    .option('--json', 'print JSON')
    .action(lazy(() => import('./commands/doctor.js')));

  for (const [verb, what, load] of [
    [
      'install',
      'register the MCP server (and, for Claude Code, the delivery hooks) with a client',
      () => import('./commands/install.js'),
    ],
    [
      'uninstall',
      'remove what install added, restoring the files as they were',
      () => import('./commands/uninstall.js'),
    ],
  ] as const) {
    program
      .command(verb)
      .description(what)
      .option('--client <client>', 'claude | codex | gemini | cursor', 'claude')
      .option('--scope <scope>', 'user (your home) | project (this directory)', 'user')
      .option('--no-hooks', 'register the server only, no hooks')
      .option('--dry-run', 'print the changes without writing them')
      .option('--command <cmd>', 'how to run claude-relay (default: this very command)')
      .option('--name <name>', 'the server name in the client', 'relay')
      .action(lazy(load));
  }

  const relay = program
    .command('relay')
    .description('run the HTTP relay that connects sessions on different machines (keys: relay keys --help)')
    .option('--port <port>', 'TCP port (0: any free one, printed at start)', '8787')
    .option(
      '--host <host>',
      'address to listen on (put a TLS reverse proxy in front for other machines)',
      '127.0.0.1',
    )
    .option('--data <dir>', 'keys and, for the embedded backend, messages (default ~/.claude-relay-server)')
    .option(
      '--backend <kind>',
      'embedded (this process, zero setup) | nats (several relays on NATS JetStream)',
      'embedded',
    )
    .option('--nats-url <url>', 'NATS server(s) for --backend nats', 'nats://127.0.0.1:4222')
    .option('--nats-prefix <name>', 'names the stream, subjects and KV bucket on NATS', 'CLAUDE_RELAY')
    .option('--rate-limit <n>', 'requests a minute allowed per API key', '600')
    .option(
      '--lease-seconds <n>',
      'how long a polled message waits for its ack before it is handed out again',
      '30',
    )
    .option('--quiet', 'no line per request on stderr')
    .option(
      '--hide-details',
      "list other machines' sessions without directory and pid (RELAY_HIDE_DETAILS=1)",
    )
    .action(lazy(() => import('./commands/relay.js')));
  const keys = relay.command('keys').description('API keys of this relay: one per machine, stored hashed');
  // `--data` after `keys add` is taken by `relay` itself, so the key commands read it with the parent's options.
  const keysCommand =
    (name: 'add' | 'list' | 'revoke') =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const run = (await import('./commands/relay-keys.js'))[name] as Run;
      const positional = args.slice(0, -2);
      process.exitCode = await run(...([...positional, command.optsWithGlobals()] as never[]));
    };
  keys
    .command('add')
    .description('make a key for a machine; printed once')
    .argument('<machine>', 'the machine name (its RELAY_MACHINE_NAME)')
    .option('--data <dir>', 'the relay data directory (default ~/.claude-relay-server)')
    .option('--json', 'print JSON')
    .action(keysCommand('add'));
  keys
    .command('list')
    .description('list machines with keys (fingerprints only)')
    .option('--data <dir>', 'the relay data directory (default ~/.claude-relay-server)')
    .option('--json', 'print JSON')
    .action(keysCommand('list'));
  keys
    .command('revoke')
    .description('revoke every key of a machine; a running relay refuses them at once')
    .argument('<machine>', 'the machine name')
    .option('--data <dir>', 'the relay data directory (default ~/.claude-relay-server)')
    .action(keysCommand('revoke'));

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    return reportFailure(e);
  }
}

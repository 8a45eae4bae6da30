/**
 * The two commands a client starts over and over, `serve` (each session) and `hook` (each event), run
 * without loading commander when their arguments are the plain ones a client writes. Anything else
 * (`--help`, an unknown option, a missing value) goes to the full program, which explains it.
 */
type Run = () => Promise<number>;

function flag(args: readonly string[], name: string): { ok: boolean; value?: string } {
  if (args.length === 0) return { ok: true };
  if (args.length === 1 && args[0]?.startsWith(`${name}=`))
    return { ok: true, value: args[0].slice(name.length + 1) };
  if (args.length === 2 && args[0] === name && !args[1]?.startsWith('-')) return { ok: true, value: args[1] };
  return { ok: false };
}

export function fastPath(argv: readonly string[]): Run | undefined {
  const [command, ...rest] = argv.slice(2);
  if (command === 'serve') {
    const push = flag(rest, '--push');
    if (!push.ok) return undefined;
    return async () =>
      (await import('./commands/serve.js')).run(push.value === undefined ? {} : { push: push.value });
  }
  if (command === 'hook') {
    const client = flag(rest, '--client');
    if (!client.ok) return undefined;
    return async () =>
      (await import('./commands/hook.js')).run(client.value === undefined ? {} : { client: client.value });
  }
  return undefined;
}

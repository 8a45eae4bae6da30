import path from 'node:path';
import { runCli } from './cli.js';
import { type BenchContext, reps } from './context.js';
import { type Figure, type Figures, NOT_BUILT } from './figures.js';
import { measureHook } from './hook.js';
import { measurePush } from './push.js';
import { allStarted, callOk, type Served, startServe } from './stdio.js';
import { tokens } from './tokenize.js';
import { SENDER, type TokenRun, toolUseBlock } from './tokens.js';

/**
 * The per-call token figures of the delivery strategies other than plain polling: long-poll
 * (`relay_poll(wait)`), channel push (Claude Code's `notifications/claude/channel`) and the client hook
 * (`claude-relay hook`). A strategy the product does not offer is `not built yet`; one it offers is
 * measured on a real `serve` or a real hook process.
 */
export interface Strategies {
  readonly longPoll: boolean;
  readonly push: boolean;
  readonly hook: boolean;
}

/**
 * Which strategies this build offers: long-poll when relay_poll takes `wait`, the hook when the CLI has a
 * `hook` command, push when a serve asked to push (RELAY_PUSH=deliver) declares the channel capability.
 */
export async function detectStrategies(run: TokenRun, pushing: Served): Promise<Strategies> {
  const poll = run.tools.find((t) => t.name === 'relay_poll');
  const experimental = (pushing.client.getServerCapabilities()?.experimental ?? {}) as Record<
    string,
    unknown
  >;
  // Commander exits 0 for `<command> --help` only when the command exists.
  const hook = (await runCli(['hook', '--help'], {})).code === 0;
  return {
    longPoll: Object.hasOwn(poll?.inputSchema.properties ?? {}, 'wait'),
    push: Object.hasOwn(experimental, 'claude/channel'),
    hook,
  };
}

function notBuilt(label: string): Figure {
  return { label, unit: 'tokens', value: NOT_BUILT };
}

async function measureLongPoll(api: Served, f: Record<string, Figure>): Promise<void> {
  f['tokens.toolUse.longPoll'] = {
    label: 'tool_use block the model writes to long-poll (wait 600)',
    unit: 'tokens',
    value: tokens(toolUseBlock('relay_poll', { wait: 600 })),
  };
  // The sender's own inbox is empty: a short wait times out with the answer a 600 s one would give.
  const answer = await callOk(api, 'relay_poll', { wait: 0.2 });
  f['tokens.answer.longPollTimeout'] = {
    label: 'answer: long-poll that timed out with no message',
    unit: 'tokens',
    value: tokens(answer),
  };
}

export interface StrategyRun {
  readonly figures: Figures;
  readonly strategies: Strategies;
  /** Tokens a pushing session received while idle, scaled to 8 hours (undefined when push is not built). */
  readonly pushIdleTokens?: number;
}

export async function measureStrategies(ctx: BenchContext, run: TokenRun): Promise<StrategyRun> {
  const f: Record<string, Figure> = {};
  const root = await ctx.tmp.make('strategies');
  const store = path.join(root, 'store');
  const started: Served[] = [];
  const serve = async (name: string, env: Record<string, string> = {}) => {
    const served = await startServe({ store, name, env });
    started.push(served);
    return served;
  };
  try {
    // Distinct names join at once; `api` sends, and its own empty inbox answers the long-poll.
    const [api, deliver, notify] = await allStarted([
      serve(SENDER),
      serve('pushed', { RELAY_PUSH: 'deliver' }),
      serve('notified', { RELAY_PUSH: 'notify' }),
    ]);
    const strategies = await detectStrategies(run, deliver);
    if (strategies.longPoll) await measureLongPoll(api, f);
    else {
      f['tokens.toolUse.longPoll'] = notBuilt('tool_use block the model writes to long-poll');
      f['tokens.answer.longPollTimeout'] = notBuilt('answer: long-poll that timed out with no message');
    }
    let pushIdleTokens: number | undefined;
    if (strategies.push) pushIdleTokens = await measurePush(ctx, { deliver, notify, api }, f);
    else {
      for (const [key, label] of [
        ['tokens.push.instructions', 'push: server instructions'],
        ['tokens.push.message', 'push: one message as the model reads it, beyond the body'],
        ['tokens.push.notice', 'push: the notice of one message'],
      ] as const)
        f[key] = notBuilt(label);
    }
    // A store of its own: the hook finds its session through its ancestors, and this process is the
    // ancestor of every serve above, so with them live in the same store it would pick one of them.
    if (strategies.hook) await measureHook(root, path.join(root, 'hook-store'), f, reps(ctx, 15, 3));
    else {
      f['tokens.hook.empty'] = notBuilt('hook on a prompt with no mail');
      f['tokens.hook.message'] = notBuilt('hook on a prompt with one message waiting, beyond the body');
      f['latency.hookEmpty'] = notBuilt('claude-relay hook, no mail');
      f['latency.hookMail'] = notBuilt('claude-relay hook delivering one waiting message');
    }
    return { figures: f, strategies, ...(pushIdleTokens === undefined ? {} : { pushIdleTokens }) };
  } finally {
    for (const s of started) await s.close().catch(() => {});
    await ctx.tmp.remove(root);
  }
}

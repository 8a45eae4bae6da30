import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { BenchContext } from './context.js';
import { ERRORS, type Figure, type Figures, judge, TOOLS } from './figures.js';
import { type Answer, allStarted, call, callOk, type Served, startServe } from './stdio.js';
import { tokens } from './tokenize.js';

/**
 * What a model pays to read claude-relay: the tool definitions as Claude Code puts them in every request,
 * the answers of each tool, the error answers, and the tool_use blocks the model itself writes. Everything is
 * counted on the text a real `serve` returned over stdio in this run.
 */

/** Who sends in the poll figures: the per-message overhead includes this name once per message. */
export const SENDER = 'api';
export const POLLER = 'bench';

/** Short, ordinary requests between sessions; the first is also the body of the send figures. */
export const BODIES = [
  'Can you run the test suite?',
  'The API schema changed: pull before you build.',
  'Done, all 212 tests pass.',
  'Which port does the dev server use?',
  'Please review PR 48 when you have a minute.',
  'I renamed getUser to fetchUser.',
  'Migrations are applied on staging.',
  'Can you stop editing src/db for ten minutes?',
  'Found the bug: an off-by-one in the pager.',
  'Thanks, merging now.',
] as const;

/** A tool_use id of the shape the API gives (`toolu_01` + 22 base62 characters), fixed so counts repeat. */
export const TOOL_USE_ID = 'toolu_01XFDUDYJgAACzvnptvVoYEL';

/** A tool as Claude Code sends it to the model: prefixed name, description, the input schema untouched. */
export function claudeCodeDefinition(tool: Tool, server = 'relay'): Record<string, unknown> {
  return {
    name: `mcp__${server}__${tool.name}`,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    input_schema: tool.inputSchema,
  };
}

export function toolUseBlock(tool: string, input: Record<string, unknown>, server = 'relay'): string {
  return JSON.stringify({ type: 'tool_use', id: TOOL_USE_ID, name: `mcp__${server}__${tool}`, input });
}

export interface TokenRun {
  readonly figures: Figures;
  /** Tools as listed by tools/list, for the idle strategies (does relay_poll take `wait`?). */
  readonly tools: readonly Tool[];
  /** The exact texts counted, so a reader of the JSON can see what each figure is. */
  readonly texts: Record<string, string>;
}

function answerFigure(label: string, answer: Answer, expectError: boolean): Figure {
  if (answer.isError !== expectError) {
    throw new Error(`${label}: expected ${expectError ? 'an error' : 'a result'}, got ${answer.text}`);
  }
  return { label, unit: 'tokens', value: tokens(answer.text) };
}

export async function measureTokens(ctx: BenchContext): Promise<TokenRun> {
  const root = await ctx.tmp.make('tokens');
  const home = path.join(root, 'home');
  const store = path.join(root, 'store');
  const project = (name: string) => path.join(home, 'projects', name);
  for (const name of [POLLER, SENDER, 'frontend', 'limited'])
    await fs.mkdir(project(name), { recursive: true });
  const started: Served[] = [];
  const serve = async (name: string, env: Record<string, string> = {}) => {
    const served = await startServe({ store, name, home, cwd: project(name), env });
    started.push(served);
    return served;
  };
  try {
    // Distinct names, so they can join at once; `frontend` is the third session of relay_sessions.
    const [bench, api] = await allStarted([serve(POLLER), serve(SENDER), serve('frontend')]);
    const f: Record<string, Figure> = {};
    const texts: Record<string, string> = {};
    const count = (key: string, label: string, answer: Answer, expectError = false) => {
      texts[key] = answer.text;
      f[key] = answerFigure(label, answer, expectError);
      return f[key].value as number;
    };

    const { tools } = await bench.client.listTools();
    const definitions = tools.map((t) => claudeCodeDefinition(t));
    for (const name of TOOLS) {
      const def = definitions.find((d) => d.name === `mcp__relay__${name}`);
      if (!def) throw new Error(`tools/list has no ${name}; it lists ${tools.map((t) => t.name).join(', ')}`);
      f[`tokens.def.${name}`] = {
        label: `definition of ${name}`,
        unit: 'tokens',
        value: tokens(JSON.stringify(def)),
      };
    }
    const total = tokens(JSON.stringify(definitions));
    texts['tokens.def.total'] = JSON.stringify(definitions);
    f['tokens.def.total'] = {
      label: `tool definitions, all ${definitions.length}, as Claude Code sends them (JSON array)`,
      unit: 'tokens',
      value: total,
      bar: judge(total, '<=', 350, 'tokens'),
    };

    const pollUse = toolUseBlock('relay_poll', {});
    const sendUse = toolUseBlock('relay_send', { to: POLLER, message: BODIES[0] });
    texts['tokens.toolUse.poll'] = pollUse;
    texts['tokens.toolUse.send'] = sendUse;
    f['tokens.toolUse.poll'] = {
      label: 'tool_use block the model writes to poll',
      unit: 'tokens',
      value: tokens(pollUse),
    };
    f['tokens.toolUse.send'] = {
      label: 'tool_use block the model writes to send, beyond the body',
      unit: 'tokens',
      value: tokens(sendUse) - tokens(BODIES[0]),
    };

    const empty = count('tokens.answer.pollEmpty', 'answer: empty poll', await call(bench, 'relay_poll'));
    f['tokens.answer.pollEmpty'] = {
      ...(f['tokens.answer.pollEmpty'] as Figure),
      beside: { label: 'seed claims', value: 20, unit: 'tokens', claim: true },
      bar: judge(empty, '<=', 8, 'tokens'),
    };
    // A send's answer holds a random id whose token count varies: count the answers of all ten sends.
    const sendAnswers: string[] = [];
    const send = async (body: string) => {
      const answer = await call(api, 'relay_send', { to: POLLER, message: body });
      if (answer.isError) throw new Error(`relay_send failed: ${answer.text}`);
      sendAnswers.push(answer.text);
    };
    const overheadBar = 15 + tokens(SENDER);
    /** Polls `n` messages, of which the first `waiting` are already in the inbox. */
    const pollOf = async (n: number, waiting: number) => {
      for (const body of BODIES.slice(waiting, n)) await send(body);
      const key = `tokens.answer.poll${n}`;
      const answerTokens = count(
        key,
        `answer: poll of ${n} short message(s)`,
        await call(bench, 'relay_poll'),
      );
      if (!texts[key]?.startsWith(`${n} new message(s):`)) throw new Error(`poll of ${n}: ${texts[key]}`);
      const bodies = BODIES.slice(0, n).reduce((sum, b) => sum + tokens(b), 0);
      const overhead = (answerTokens - bodies) / n;
      f[`tokens.overhead.poll${n}`] = {
        label: `poll of ${n}: overhead per message beyond the bodies (sender "${SENDER}", ${tokens(SENDER)} token)`,
        unit: 'tokens',
        value: overhead,
        bar: judge(overhead, '<=', overheadBar, 'tokens', `≤ 15 + sender name = ${overheadBar} tokens`),
        // Why a one-message poll costs more per message: the count line is paid once per answer.
        note: `includes the count line ${JSON.stringify(`${n} new message(s):`)} (${tokens(`${n} new message(s):`)} tokens, the seed's shape, once per answer) spread over ${n} message(s); the id is ${tokens('#123456')} tokens`,
      };
    };
    await send(BODIES[0]);
    await pollOf(1, 1);
    await pollOf(10, 0);
    const sendTokens = sendAnswers.map(tokens);
    const sent = sendTokens.reduce((a, b) => a + b, 0) / sendTokens.length;
    texts['tokens.answer.send'] = sendAnswers.join('\n');
    f['tokens.answer.send'] = {
      label: `answer: send (to "${POLLER}"), mean of ${sendTokens.length} sends`,
      unit: 'tokens',
      value: sent,
      beside: { label: 'seed claims', value: 50, unit: 'tokens', claim: true },
      bar: judge(sent, '<=', 15, 'tokens'),
      note: `from ${Math.min(...sendTokens)} to ${Math.max(...sendTokens)} tokens, as the random id falls`,
    };

    count(
      'tokens.answer.sessions3',
      'answer: relay_sessions with 3 sessions',
      await call(bench, 'relay_sessions'),
    );
    if (!texts['tokens.answer.sessions3']?.startsWith('3 active')) {
      throw new Error(`relay_sessions: ${texts['tokens.answer.sessions3']}`);
    }
    count(
      'tokens.answer.broadcast',
      'answer: broadcast to 2 sessions',
      await call(bench, 'relay_broadcast', { message: 'Build is green.' }),
    );

    const errorCalls: Record<(typeof ERRORS)[number], () => Promise<Answer>> = {
      badName: () => call(bench, 'relay_send', { to: '../x', message: 'hi' }),
      tooLarge: () => call(bench, 'relay_send', { to: SENDER, message: 'x'.repeat(1_000_001) }),
      rateLimited: async () => {
        // Joins only now, after relay_sessions counted its three.
        const limited = await serve('limited', { RELAY_RATE_LIMIT: '1' });
        await callOk(limited, 'relay_send', { to: POLLER, message: 'hi' });
        return call(limited, 'relay_send', { to: POLLER, message: 'hi again' });
      },
    };
    const errorLabels: Record<(typeof ERRORS)[number], string> = {
      badName: 'error: bad session name ("../x")',
      tooLarge: 'error: message too large (1,000,001 bytes)',
      rateLimited: 'error: rate limited',
    };
    for (const e of ERRORS) count(`tokens.error.${e}`, errorLabels[e], await errorCalls[e](), true);
    // A name that never joined is not an error: the message waits for a session of that name.
    count(
      'tokens.answer.notJoined',
      'answer: send to a name not joined yet ("nobody")',
      await call(bench, 'relay_send', { to: 'nobody', message: 'hi' }),
      false,
    );

    return {
      figures: f,
      tools,
      texts,
    };
  } finally {
    for (const s of started) await s.close().catch(() => {});
    await ctx.tmp.remove(root);
  }
}

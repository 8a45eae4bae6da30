import { promises as fs } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/relay/config.js';
import { beat } from '../src/relay/membership.js';
import { sendMessage } from '../src/relay/send.js';
import { createContext } from '../src/relay/serve-session.js';
import { runCli } from './cli.js';
import { type Figure, judge, round } from './figures.js';
import { nodeAlone } from './startup.js';
import { besideOf, summarize, timed, timing } from './stats.js';
import { tokens } from './tokenize.js';
import { BODIES, SENDER } from './tokens.js';

/**
 * The client hook (`claude-relay hook`, run by Claude Code on a prompt): what it adds to a prompt with no
 * mail, and with one message waiting, as Claude Code shows hook context to the model.
 */
const BODY = BODIES[0];

export async function measureHook(
  root: string,
  store: string,
  f: Record<string, Figure>,
  runs = 15,
): Promise<void> {
  const project = path.join(root, 'hooked');
  await fs.mkdir(project, { recursive: true });
  const config = (name: string) => loadConfig({ RELAY_HOME: store, RELAY_SESSION_NAME: name }, project);
  // The session joins without a serve process, so the hook finds it by RELAY_SESSION_NAME.
  await beat(createContext({ config: config('hooked'), name: 'hooked' }));
  const env = { RELAY_HOME: store, RELAY_SESSION_NAME: 'hooked', HOME: root };
  const event = JSON.stringify({ hook_event_name: 'UserPromptSubmit', cwd: project, session_id: 'bench' });
  const hook = async () => {
    const r = await runCli(['hook'], env, event);
    if (r.code !== 0) throw new Error(`claude-relay hook exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const empty = await hook();
  f['tokens.hook.empty'] = {
    label: 'hook on a prompt with no mail: what it adds to the prompt',
    unit: 'tokens',
    value: tokens(empty),
  };
  await sendMessage(createContext({ config: config(SENDER), name: SENDER }), { to: 'hooked', message: BODY });
  const out = JSON.parse((await hook()) || '{}') as { hookSpecificOutput?: { additionalContext?: string } };
  const context = out.hookSpecificOutput?.additionalContext;
  if (context === undefined)
    throw new Error('claude-relay hook printed no additionalContext for a waiting message');
  // Claude Code puts hook context in front of the model with this line (see the harness README).
  const shown = `UserPromptSubmit hook additional context: ${context}`;
  f['tokens.hook.message'] = {
    label: `hook on a prompt with one message waiting: beyond the body (sender "${SENDER}")`,
    unit: 'tokens',
    value: tokens(shown) - tokens(BODY),
    note: `counted on ${JSON.stringify(shown)}`,
  };

  // Time: the hook runs on every tool call, so its no-mail run is what a session pays all day long.
  const idle: number[] = [];
  const delivering: number[] = [];
  const node: number[] = [];
  const sender = createContext({ config: config(SENDER), name: SENDER });
  for (let i = 0; i < runs; i++) {
    idle.push((await timed(hook)).ms);
    await sendMessage(sender, { to: 'hooked', message: BODY });
    const { ms, result } = await timed(hook);
    if (!result.includes(BODY)) throw new Error('the timed hook run did not deliver the waiting message');
    delivering.push(ms);
    node.push(await nodeAlone());
  }
  const beside = besideOf('node alone (spawn → exit)', node);
  f['latency.hookEmpty'] = {
    ...timing('claude-relay hook, no mail (every tool call pays this): spawn → exit', idle, beside),
    bar: judge(
      summarize(idle).median,
      '<=',
      1.25 * beside.value,
      'ms',
      `≤ 1.25× node alone (${round(1.25 * beside.value)} ms)`,
    ),
  };
  f['latency.hookMail'] = timing(
    'claude-relay hook delivering one waiting message: spawn → exit',
    delivering,
    beside,
  );
}

import path from 'node:path';
import { loadConfig } from '../src/relay/config.js';
import { beat } from '../src/relay/membership.js';
import { createContext } from '../src/relay/serve-session.js';
import type { BenchContext } from './context.js';
import { type Figures, judge } from './figures.js';
import { monoMs, summarize } from './stats.js';
import { callOk, startServe } from './stdio.js';
import { tokens } from './tokenize.js';

/**
 * relay_sessions on one store with 200 live sessions (each a heartbeat of this live process, in its own
 * folder), called over MCP from one more `serve`: how long the answer takes and what it costs a model.
 */
export const LIVE_SESSIONS = 200;
/** An answer a model can still read whole: a line per session would be ~20 tokens each (4,000 for 200). */
const TOKEN_BAR = 1500;

export async function measureSessions(ctx: BenchContext): Promise<Figures> {
  const root = await ctx.tmp.make('sessions');
  const store = path.join(root, 'store');
  const config = loadConfig({ RELAY_HOME: store }, root);
  ctx.progress(`sessions: ${LIVE_SESSIONS} live sessions, then relay_sessions over MCP`);
  for (let i = 0; i < LIVE_SESSIONS; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        beat(createContext({ config: { ...config, cwd: `/work/project-${i + j}` }, name: `s-${i + j}` })),
      ),
    );
  }
  const served = await startServe({ store, name: 'bench', env: { RELAY_PUSH: 'off' } });
  try {
    const times: number[] = [];
    let answer = '';
    for (let i = 0; i < (ctx.quick ? 5 : 30); i++) {
      const t = monoMs();
      answer = await callOk(served, 'relay_sessions');
      times.push(monoMs() - t);
    }
    if (!answer.startsWith(`${LIVE_SESSIONS + 1} active`))
      throw new Error(`relay_sessions: ${answer.slice(0, 80)}`);
    const s = summarize(times);
    const count = tokens(answer);
    return {
      'sessions.live200.time': {
        label: `relay_sessions with ${LIVE_SESSIONS} live sessions on one store: answer time over MCP`,
        unit: 'ms',
        value: s.median,
        p99: s.p99,
        runs: s.runs,
      },
      'sessions.live200.tokens': {
        label: `relay_sessions with ${LIVE_SESSIONS} live sessions: tokens of the answer`,
        unit: 'tokens',
        value: count,
        bar: judge(count, '<=', TOKEN_BAR, 'tokens'),
        note: 'the first 20 sessions with folder and uptime, the rest by name only, grouped by machine',
      },
    };
  } finally {
    await served.close().catch(() => {});
    await ctx.tmp.remove(root);
  }
}

import { TOOL_WAIT_MAX_SECONDS } from '../src/relay/long-poll.js';
import { type Figure, type Figures, NOT_BUILT } from './figures.js';
import type { StrategyRun } from './strategies.js';

/**
 * What a session pays while it waits 8 hours for a message, under each delivery strategy the product
 * offers, computed from the per-call figures measured in this run. Each call of a polling strategy is one
 * more model request, so the tool definitions ride along again, and every later request re-reads it.
 */
export const IDLE_HOURS = 8;
export const POLL_EVERY_S = 30;
export const IDLE_S = IDLE_HOURS * 3600;
export const SEED_IDLE_CLAIM = 19_000;

function num(figures: Figures, key: string): number {
  const v = figures[key]?.value;
  if (typeof v !== 'number') throw new Error(`idle cost needs ${key}, which was not measured`);
  return v;
}

/** The three lines of a polling strategy: its own calls, the definitions re-sent, the history re-read. */
function pollingCost(
  prefix: string,
  what: string,
  calls: number,
  toolUse: number,
  answer: number,
  definitions: number,
): Record<string, Figure> {
  const perCall = toolUse + answer;
  // Request k carries the k−1 earlier calls again: 0 + 1 + … + (calls−1) turns re-read in all.
  const turns = (calls * (calls - 1)) / 2;
  return {
    [prefix]: {
      label: `idle ${IDLE_HOURS} h, ${what}: ${calls} × (tool_use ${toolUse} + empty answer ${answer})`,
      unit: 'tokens',
      value: calls * perCall,
    },
    [`${prefix}.definitions`]: {
      label: `… plus the tool definitions re-sent with each of those ${calls} requests (${calls} × ${definitions})`,
      unit: 'tokens',
      value: calls * definitions,
    },
    [`${prefix}.history`]: {
      label: `… plus earlier calls re-read by each later request (${perCall} × ${turns.toLocaleString('en-US')} turns, no compaction)`,
      unit: 'tokens',
      value: perCall * turns,
    },
  };
}

export function idleFigures(tokenFigures: Figures, strategies: StrategyRun): Figures {
  const f = { ...tokenFigures, ...strategies.figures };
  const definitions = num(f, 'tokens.def.total');
  const polls = IDLE_S / POLL_EVERY_S;
  const poll = pollingCost(
    'idle.poll30s',
    `relay_poll every ${POLL_EVERY_S} s`,
    polls,
    num(f, 'tokens.toolUse.poll'),
    num(f, 'tokens.answer.pollEmpty'),
    definitions,
  );
  poll['idle.poll30s'] = {
    ...(poll['idle.poll30s'] as Figure),
    beside: { label: 'seed claims', value: SEED_IDLE_CLAIM, unit: 'tokens', claim: true },
  };
  poll['idle.poll30s.definitions'] = {
    ...(poll['idle.poll30s.definitions'] as Figure),
    note: 'Claude Code sends every MCP tool definition in every /v1/messages request (without tool search)',
  };
  poll['idle.poll30s.history'] = {
    ...(poll['idle.poll30s.history'] as Figure),
    note: 'each request carries the whole conversation, so call k re-sends the k−1 calls before it',
  };

  const waits = Math.ceil(IDLE_S / TOOL_WAIT_MAX_SECONDS);
  const longPoll: Record<string, Figure> = strategies.strategies.longPoll
    ? pollingCost(
        'idle.longPoll',
        `relay_poll(wait ${TOOL_WAIT_MAX_SECONDS}) back to back`,
        waits,
        num(f, 'tokens.toolUse.longPoll'),
        num(f, 'tokens.answer.longPollTimeout'),
        definitions,
      )
    : Object.fromEntries(
        [
          ['idle.longPoll', `idle ${IDLE_HOURS} h, long-poll (relay_poll with wait)`],
          ['idle.longPoll.definitions', '… plus the tool definitions re-sent with each long-poll request'],
          ['idle.longPoll.history', '… plus earlier long-polls re-read by each later request'],
        ].map(([key, label]) => [key, { label, unit: 'tokens', value: NOT_BUILT }]),
      );

  return {
    ...poll,
    ...longPoll,
    'idle.hook': {
      label: `idle ${IDLE_HOURS} h, client hook (claude-relay hook)`,
      unit: 'tokens',
      value: strategies.strategies.hook ? 0 : NOT_BUILT,
      ...(strategies.strategies.hook
        ? {
            note:
              'a hook runs only on the client’s own events (prompt, tool call, stop); an idle session fires none, ' +
              `and a prompt with no mail gets ${num(f, 'tokens.hook.empty')} tokens. A message waits for the next event`,
          }
        : {}),
    },
    'idle.push': {
      label: `idle ${IDLE_HOURS} h, channel push`,
      unit: 'tokens',
      value: strategies.pushIdleTokens ?? NOT_BUILT,
      ...(strategies.pushIdleTokens === undefined
        ? {}
        : {
            note:
              'measured: what the client received in an idle window, scaled to 8 h; no request is made while ' +
              'nothing arrives. Push reaches the model only in interactive Claude Code with channels enabled',
          }),
    },
  };
}

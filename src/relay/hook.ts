import { z } from 'zod';
import type { SentEvent } from '../log/events.js';
import type { RelayContext } from './context.js';
import { hookOutput } from './hook-clients.js';
import { type PollResult, pollInbox } from './poll.js';

/** The fields of a Claude Code hook event that matter here; everything else is ignored. */
export const HookEventSchema = z
  .object({
    hook_event_name: z.string(),
    cwd: z.string().optional(),
    session_id: z.string().optional(),
    stop_hook_active: z.boolean().optional(),
  })
  .loose();
export type HookEvent = z.infer<typeof HookEventSchema>;

/** Events whose output can carry `additionalContext` to the model. */
export const CONTEXT_EVENTS = ['UserPromptSubmit', 'SessionStart', 'PostToolUse'] as const;

/** Hook output is a model's context: keep a batch well under what a client shows of one hook. */
export const HOOK_MAX_BYTES = 8_000;

export type HookOutput =
  | { readonly hookSpecificOutput: { readonly hookEventName: string; readonly additionalContext: string } }
  | { readonly decision: 'block'; readonly reason: string; readonly suppressOutput: true };

/** Claude Code's output (Codex CLI reads the same): see hook-clients.ts for the others. */
function claudeOutput(event: string, stop: boolean, text: string): HookOutput {
  return hookOutput('claude', event, stop, text) as HookOutput;
}

/**
 * Delivers this session's unread messages through a hook: as `additionalContext` on a prompt, a session
 * start or after a tool call, or as the reason that blocks a Stop, so the agent reads its mail before it
 * goes idle. Resolves undefined when there is nothing to say: the hook then prints nothing at all.
 */
export async function deliverByHook<O = HookOutput>(
  ctx: RelayContext,
  event: HookEvent,
  format: (messages: readonly SentEvent[], remaining: number) => string,
  /** Sees the poll behind the answer (what was taken, expired, left): for tests and diagnostics. */
  observe?: (result: PollResult) => void,
  /** The client's output for a stop or a context event (default: Claude Code's). */
  shape: (event: string, stop: boolean, text: string) => O = claudeOutput as never,
): Promise<O | undefined> {
  const name = event.hook_event_name;
  const isContext = (CONTEXT_EVENTS as readonly string[]).includes(name);
  if (!isContext && name !== 'Stop') return undefined;
  if (name === 'Stop' && event.stop_hook_active === true) return undefined;
  const result = await pollInbox(ctx, { via: 'hook', maxBytes: HOOK_MAX_BYTES });
  observe?.(result);
  const { messages, remaining } = result;
  if (messages.length === 0) return undefined;
  return shape(name, name === 'Stop', format(messages, remaining));
}

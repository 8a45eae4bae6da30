import * as z from 'zod';
import type { SentEvent } from '../log/events.js';
import type { RelayContext } from './context.js';
import { hookOutput } from './hook-clients.js';
import { type Take, takeInbox } from './take.js';

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

/**
 * Claude Code shows at most 10,000 characters of a hook's context; a batch stays under that with room for
 * the framing, and a message larger than that waits for relay_poll instead of being cut off.
 */
export const HOOK_MAX_BYTES = 8_000;

export type HookOutput =
  | { readonly hookSpecificOutput: { readonly hookEventName: string; readonly additionalContext: string } }
  | { readonly decision: 'block'; readonly reason: string; readonly suppressOutput: true };

/** Claude Code's output (Codex CLI reads the same): see hook-clients.ts for the others. */
function claudeOutput(event: string, stop: boolean, text: string): HookOutput {
  return hookOutput('claude', event, stop, text) as HookOutput;
}

/** What a hook says (nothing when no mail waits), and the take behind it: commit once it is written out. */
export interface HookDelivery<O = HookOutput> {
  readonly output: O | undefined;
  readonly take: Take;
}

export type HookFormat = (
  messages: readonly SentEvent[],
  waiting: {
    readonly remaining: number;
    readonly remainingBytes: number;
    readonly again: ReadonlySet<string>;
  },
) => string;

/**
 * Delivers this session's unread messages through a hook: as `additionalContext` on a prompt, a session
 * start or after a tool call, or as the reason that blocks a Stop, so the agent reads its mail before it
 * goes idle. Resolves undefined for an event that cannot carry mail; with no `output` the hook prints nothing.
 */
export async function deliverByHook<O = HookOutput>(
  ctx: RelayContext,
  event: HookEvent,
  format: HookFormat,
  /** The client's output for a stop or a context event (default: Claude Code's). */
  shape: (event: string, stop: boolean, text: string) => O = claudeOutput as never,
): Promise<HookDelivery<O> | undefined> {
  const name = event.hook_event_name;
  const isContext = (CONTEXT_EVENTS as readonly string[]).includes(name);
  if (!isContext && name !== 'Stop') return undefined;
  if (name === 'Stop' && event.stop_hook_active === true) return undefined;
  const take = await takeInbox(ctx, { via: 'hook', maxBytes: HOOK_MAX_BYTES, oversized: 'leave' });
  if (take.messages.length === 0 && take.remaining === 0) return { output: undefined, take };
  return { output: shape(name, name === 'Stop', format(take.messages, take)), take };
}

/**
 * Each client's hook dialect: which of its events can put text in front of the model, and the JSON that
 * does it. Formats checked against each client's documentation and schema (spec/clients.md):
 * - Claude Code and Codex CLI: SessionStart, UserPromptSubmit, PostToolUse → `hookSpecificOutput.
 *   additionalContext`; Stop → `decision: "block"` + `reason`, and `stop_hook_active` on the next Stop.
 * - Gemini CLI: SessionStart, BeforeAgent, AfterTool → `hookSpecificOutput.additionalContext`.
 * - Cursor: sessionStart, postToolUse → `additional_context`; stop → `followup_message` (sent as the next
 *   user message), `loop_count` counting the follow-ups already made.
 * Every event is mapped onto the Claude Code name that the delivery path knows (`Stop` for a stop).
 */
export const HOOK_CLIENTS = ['claude', 'codex', 'gemini', 'cursor'] as const;
export type HookClient = (typeof HOOK_CLIENTS)[number];

const CLAUDE_EVENTS = {
  SessionStart: 'SessionStart',
  UserPromptSubmit: 'UserPromptSubmit',
  PostToolUse: 'PostToolUse',
  Stop: 'Stop',
};

/** Per client: its event name → the Claude Code event it stands for. */
export const CLIENT_EVENTS: Readonly<Record<HookClient, Readonly<Record<string, string>>>> = {
  claude: CLAUDE_EVENTS,
  codex: CLAUDE_EVENTS,
  gemini: { SessionStart: 'SessionStart', BeforeAgent: 'UserPromptSubmit', AfterTool: 'PostToolUse' },
  cursor: { sessionStart: 'SessionStart', postToolUse: 'PostToolUse', stop: 'Stop' },
};

export function isHookClient(value: unknown): value is HookClient {
  return (HOOK_CLIENTS as readonly unknown[]).includes(value);
}

type Payload = Readonly<Record<string, unknown>>;

/** The client that sent `payload`, when install did not say: Cursor and Gemini use names of their own. */
export function detectClient(payload: Payload): HookClient {
  const name = payload.hook_event_name;
  if (typeof name === 'string' && name in CLIENT_EVENTS.cursor) return 'cursor';
  if ('cursor_version' in payload || 'workspace_roots' in payload) return 'cursor';
  if (typeof name === 'string' && name in CLIENT_EVENTS.gemini && !(name in CLAUDE_EVENTS)) return 'gemini';
  return 'claude';
}

/** The event as the delivery path reads it: Claude Code's name, cwd, and whether a stop already looped. */
export interface CanonicalEvent {
  readonly hook_event_name: string;
  readonly cwd?: string;
  readonly stop_hook_active?: boolean;
}

export function canonicalEvent(client: HookClient, payload: Payload): CanonicalEvent {
  const raw = payload.hook_event_name;
  const name = typeof raw === 'string' ? (CLIENT_EVENTS[client][raw] ?? `${client}:${raw}`) : '';
  const roots = payload.workspace_roots;
  const cwd =
    typeof payload.cwd === 'string'
      ? payload.cwd
      : Array.isArray(roots) && typeof roots[0] === 'string'
        ? roots[0]
        : undefined;
  const looped =
    payload.stop_hook_active === true || (typeof payload.loop_count === 'number' && payload.loop_count > 0);
  return {
    hook_event_name: name,
    ...(cwd === undefined ? {} : { cwd }),
    ...(looped ? { stop_hook_active: true } : {}),
  };
}

/** The JSON that puts `text` in front of the model, for the client's own event `event`. */
export function hookOutput(client: HookClient, event: string, stop: boolean, text: string): object {
  if (client === 'cursor') return stop ? { followup_message: text } : { additional_context: text };
  // Claude Code 2.1.332 shows a blocking reason twice (as feedback and as a blocking error) unless the
  // output is suppressed from the transcript; with suppressOutput the model reads it once.
  if (stop) return { decision: 'block', reason: text, suppressOutput: true };
  return { hookSpecificOutput: { hookEventName: event, additionalContext: text } };
}

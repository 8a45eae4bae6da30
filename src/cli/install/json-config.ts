/** Adds and removes claude-relay's entries in a client's JSON settings, leaving everything else as it was. */
export type Json = Record<string, unknown>;

export const HOOK_EVENTS = ['SessionStart', 'UserPromptSubmit', 'PostToolUse', 'Stop'] as const;

export interface ServerEntry {
  readonly command: string;
  readonly args: readonly string[];
}

export function parseJsonConfig(text: string | undefined, file: string): Json {
  if (text === undefined || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(
      `${file} is not valid JSON (comments are not supported); fix it, or add the relay entry by hand.`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${file} does not hold a JSON object; fix it, or add the relay entry by hand.`);
  }
  return value as Json;
}

function object(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

export function withServer(config: Json, name: string, entry: Json): Json {
  return { ...config, mcpServers: { ...object(config.mcpServers), [name]: entry } };
}

export function withoutServer(config: Json, name: string): Json {
  if (!(name in object(config.mcpServers))) return config;
  const { [name]: _removed, ...rest } = object(config.mcpServers);
  const { mcpServers: _old, ...others } = config;
  return Object.keys(rest).length === 0 ? others : { ...others, mcpServers: rest };
}

type HookGroup = { command?: string; hooks?: Array<{ type?: string; command?: string }> };

/** Claude Code, Codex and Gemini nest handlers in matcher groups; Cursor lists `{ command }` entries. */
export interface HookLayout {
  readonly events: readonly string[];
  readonly flat?: boolean;
}

const CLAUDE_LAYOUT: HookLayout = { events: HOOK_EVENTS };

function isOurs(group: HookGroup, command: string): boolean {
  if (group.command === command) return true;
  return Array.isArray(group.hooks) && group.hooks.some((h) => h.command === command);
}

/** One hook entry per event that runs `command`; an existing identical entry is kept, not doubled. */
export function withHooks(config: Json, command: string, layout: HookLayout = CLAUDE_LAYOUT): Json {
  const hooks = { ...object(config.hooks) };
  for (const event of layout.events) {
    const groups = (Array.isArray(hooks[event]) ? hooks[event] : []) as HookGroup[];
    if (groups.some((g) => isOurs(g, command))) continue;
    hooks[event] = [...groups, layout.flat ? { command } : { hooks: [{ type: 'command', command }] }];
  }
  return { ...config, hooks };
}

export function withoutHooks(config: Json, command: string): Json {
  if (!('hooks' in config)) return config;
  const hooks: Json = {};
  for (const [event, value] of Object.entries(object(config.hooks))) {
    if (!Array.isArray(value)) {
      hooks[event] = value;
      continue;
    }
    const kept = (value as HookGroup[]).filter((g) => !isOurs(g, command));
    if (kept.length > 0) hooks[event] = kept;
  }
  const { hooks: _old, ...others } = config;
  return Object.keys(hooks).length === 0 ? others : { ...others, hooks };
}

export function formatJson(config: Json): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

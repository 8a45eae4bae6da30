/**
 * Codex CLI keeps MCP servers in TOML (`[mcp_servers.<name>]`). Only our own table is ever written or
 * removed, as a block of lines, so the rest of the file stays byte for byte as the user wrote it.
 */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/**
 * Codex starts MCP servers without the shell's environment, so the relay's settings go in the table's
 * `env`, as an inline table: a `[mcp_servers.<name>.env]` header would end the block that uninstall removes.
 */
export function serverBlock(
  name: string,
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): string {
  const vars = Object.entries(env).map(([k, v]) => `${k} = ${tomlString(v)}`);
  const envLine = vars.length === 0 ? '' : `env = { ${vars.join(', ')} }\n`;
  return `[mcp_servers.${name}]\ncommand = ${tomlString(command)}\nargs = [${args.map(tomlString).join(', ')}]\n${envLine}`;
}

/** The line range of `[mcp_servers.<name>]` up to the next table header, or undefined. */
function findBlock(lines: readonly string[], name: string): { start: number; end: number } | undefined {
  const header = `[mcp_servers.${name}]`;
  const start = lines.findIndex((l) => l.trim() === header);
  if (start < 0) return undefined;
  let end = start + 1;
  while (end < lines.length && !/^\s*\[/.test(lines[end] as string)) end++;
  return { start, end };
}

export function hasBlock(text: string, name: string): boolean {
  return findBlock(text.split('\n'), name) !== undefined;
}

export function withBlock(text: string | undefined, block: string, name: string): string {
  const base = text ?? '';
  if (hasBlock(base, name)) return base;
  if (base === '') return block;
  return `${base}${base.endsWith('\n') ? '' : '\n'}\n${block}`;
}

export function withoutBlock(text: string, name: string): string {
  const lines = text.split('\n');
  const found = findBlock(lines, name);
  if (!found) return text;
  const before = lines.slice(0, found.start).join('\n');
  const after = lines.slice(found.end).join('\n');
  if (found.end >= lines.length) {
    // The table ran to the end: drop the blank line that withBlock put before it.
    return before.endsWith('\n\n') ? before.slice(0, -1) : before;
  }
  return `${before}${before === '' ? '' : '\n'}${after}`;
}

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ZodRawShape } from 'zod';
import * as z from 'zod';

/** A tool as the model sees it: the one place its name, description and arguments are written. */
export interface ToolSpec<Shape extends ZodRawShape = ZodRawShape> {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Shape;
}

/**
 * The JSON schema of a tool's arguments, without the `$schema` dialect line the SDK adds: a client copies
 * the definitions into every model request, and that line alone costs about 15 tokens a tool.
 */
export function toolDefinition(spec: ToolSpec): Tool {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(z.object(spec.inputSchema), {
    io: 'input',
  }) as Record<string, unknown>;
  if (Object.keys(spec.inputSchema).length === 0) delete schema.required;
  delete schema.additionalProperties;
  return { name: spec.name, description: spec.description, inputSchema: schema as Tool['inputSchema'] };
}

/** Answers tools/list with the compact definitions; calls still go through the SDK's validation. */
export function listToolsCompactly(server: McpServer, specs: readonly ToolSpec[]): void {
  const tools = specs.map(toolDefinition);
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
}

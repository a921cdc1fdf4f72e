import type { z } from 'zod';

export interface ToolContext {
  workflowId: string;
  taskId: string;
  /** Stable across retries of the same task: use it to make side effects idempotent. */
  idempotencyKey: string;
  /** Aborted when Temporal cancels the activity. */
  signal: AbortSignal;
}

export interface ToolDefinition<Input = unknown, Output = unknown> {
  name: string;
  description: string;
  input: z.ZodType<Input>;
  /** The input's JSON Schema, when it does not come from `input` (an MCP server's tool, checked with ajv). */
  jsonSchema?: Record<string, unknown>;
  /** Ask a human before each call: the run waits (escalation `tool_approval`) with the exact input. Default false. */
  needsApproval?: boolean;
  run(input: Input, context: ToolContext): Promise<Output>;
}

/** Tool names: snake_case, as models expect them in tool lists. */
export const toolNamePattern = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Declares a tool. Its input is validated against `input` before `run` is called; a tool
 * signals how it failed by throwing `KeelError` (e.g. `semantic` for unexpected data).
 */
export function defineTool<Input, Output>(definition: ToolDefinition<Input, Output>): ToolDefinition<Input, Output> {
  if (!toolNamePattern.test(definition.name)) {
    throw new TypeError(`tool name "${definition.name}" must be snake_case: a-z, 0-9 and _, starting with a letter`);
  }
  return definition;
}

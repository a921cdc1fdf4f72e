import { z } from 'zod';
import type { ToolDefinition } from './define-tool';

/** The tools a worker can run, by name. */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition<never>>();
  private readonly schemas = new Map<string, unknown>();

  constructor(tools: ReadonlyArray<ToolDefinition<never>> = []) {
    for (const tool of tools) {
      if (this.tools.has(tool.name)) throw new TypeError(`two tools are named "${tool.name}"`);
      this.tools.set(tool.name, tool);
    }
  }

  get names(): string[] {
    return [...this.tools.keys()];
  }

  /** Tools that ask a human before each call. */
  get approvalTools(): string[] {
    return [...this.tools.values()].filter((tool) => tool.needsApproval === true).map((tool) => tool.name);
  }

  get(name: string): ToolDefinition<unknown> | undefined {
    return this.tools.get(name) as ToolDefinition<unknown> | undefined;
  }

  /** What a tool accepts as input, as JSON Schema (defaults optional), or undefined when there is no such tool. */
  inputSchema(name: string): Record<string, unknown> | undefined {
    const tool = this.tools.get(name);
    return tool ? (z.toJSONSchema(tool.input as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>) : undefined;
  }

  /** Name, description and JSON schema of each tool, for the planner's prompt and each agent step (made once a tool). */
  describe(names: readonly string[]): Array<{ name: string; description: string; inputSchema?: unknown }> {
    return names.map((name) => {
      const tool = this.tools.get(name);
      if (!tool) return { name, description: 'scripted by the scenario' };
      let schema = this.schemas.get(name);
      if (!schema) this.schemas.set(name, (schema = z.toJSONSchema(tool.input as z.ZodType, { unrepresentable: 'any' })));
      return { name, description: tool.description, inputSchema: schema };
    });
  }
}

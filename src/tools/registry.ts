import { z } from 'zod';
import type { ToolDefinition } from './define-tool';

/**
 * The tools a worker can run, by name: its own, fixed at start, and those of a source that can
 * change while it runs (MCP servers, whose tool lists may change), asked each time.
 */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition<never>>();
  private readonly schemas = new WeakMap<ToolDefinition<never>, unknown>();

  constructor(
    tools: ReadonlyArray<ToolDefinition<never>> = [],
    private readonly changing: () => ReadonlyArray<ToolDefinition<never>> = () => [],
  ) {
    for (const tool of [...tools, ...changing()]) {
      // The same definition twice (a module the config names, also given in code) is one tool.
      if (this.tools.get(tool.name) === tool) continue;
      if (this.tools.has(tool.name)) throw new TypeError(`two tools are named "${tool.name}"`);
      this.tools.set(tool.name, tool);
    }
    for (const tool of changing()) this.tools.delete(tool.name);
  }

  private all(): Array<ToolDefinition<never>> {
    const own = [...this.tools.values()];
    return [...own, ...this.changing().filter((tool) => !this.tools.has(tool.name))];
  }

  get names(): string[] {
    return this.all().map((tool) => tool.name);
  }

  /** Tools that ask a human before each call. */
  get approvalTools(): string[] {
    return this.all().filter((tool) => tool.needsApproval === true).map((tool) => tool.name);
  }

  get(name: string): ToolDefinition<unknown> | undefined {
    return (this.tools.get(name) ?? this.changing().find((tool) => tool.name === name)) as ToolDefinition<unknown> | undefined;
  }

  /** What a tool accepts as input, as JSON Schema (defaults optional), or undefined when there is no such tool. */
  inputSchema(name: string): Record<string, unknown> | undefined {
    const tool = this.get(name);
    if (!tool) return undefined;
    return tool.jsonSchema ?? (z.toJSONSchema(tool.input as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>);
  }

  /** Name, description and JSON schema of each tool, for the planner's prompt and each agent step (made once a tool). */
  describe(names: readonly string[]): Array<{ name: string; description: string; inputSchema?: unknown }> {
    return names.map((name) => {
      const tool = this.get(name) as ToolDefinition<never> | undefined;
      if (!tool) return { name, description: 'scripted by the scenario' };
      let schema = this.schemas.get(tool);
      if (!schema) this.schemas.set(tool, (schema = tool.jsonSchema ?? z.toJSONSchema(tool.input as z.ZodType, { unrepresentable: 'any' })));
      return { name, description: tool.description, inputSchema: schema };
    });
  }
}

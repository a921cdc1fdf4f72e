// Tools from the user's own modules (KEEL_TOOLS, and `tools` in keel.config.json): each module exports `tools`, an array of
// defineTool() definitions (or exports that array as default). Anything else is refused by name.
import path from 'node:path';
import { toolNamePattern, type ToolDefinition } from './define-tool';

/** Where tool modules are named, for errors. */
const source = 'tool modules (KEEL_TOOLS, or "tools" in the config file)';

export class ToolModuleError extends Error {
  override readonly name = 'ToolModuleError';
}

/** Loads and checks the tools in each module (paths resolve against the working directory). */
export function loadToolModules(modules: readonly string[], cwd = process.cwd()): Array<ToolDefinition<never>> {
  return modules.flatMap((module) => {
    const file = path.resolve(cwd, module);
    let exported: Record<string, unknown>;
    try {
      // require() also loads ES modules on Node >= 20.19; a user's module path is only known at run time.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      exported = require(file) as Record<string, unknown>;
    } catch (error) {
      throw new ToolModuleError(`${source}: cannot load ${file}: ${(error as Error).message}`);
    }
    const list = exported.tools ?? exported.default;
    if (!Array.isArray(list)) {
      throw new ToolModuleError(`${source}: ${file} must export \`tools\`, an array of defineTool() definitions (it exports: ${Object.keys(exported).join(', ') || 'nothing'})`);
    }
    return list.map((tool: unknown, index) => checkTool(tool, `${file} tools[${index}]`));
  });
}

function checkTool(tool: unknown, where: string): ToolDefinition<never> {
  const candidate = (tool ?? {}) as Partial<ToolDefinition<unknown>>;
  const problems = [
    typeof candidate.name === 'string' && toolNamePattern.test(candidate.name) ? undefined : 'name must be snake_case (a-z, 0-9, _)',
    typeof candidate.description === 'string' && candidate.description.length > 0 ? undefined : 'description must be a non-empty string',
    typeof (candidate.input as { safeParse?: unknown } | undefined)?.safeParse === 'function' ? undefined : 'input must be a zod schema',
    typeof candidate.run === 'function' ? undefined : 'run must be a function (input, context) => Promise<output>',
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) throw new ToolModuleError(`${source}: ${where}${candidate.name ? ` ("${String(candidate.name)}")` : ''}: ${problems.join('; ')}`);
  return candidate as ToolDefinition<never>;
}

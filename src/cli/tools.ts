// keel tools: every tool a worker started here would have, with where it comes from (built in, a
// module named by keel.config.json "tools" or KEEL_TOOLS, an MCP server), what it does and its input's JSON Schema.
import path from 'node:path';
import { loadConfig, ConfigurationError } from '../config';
import { McpServerError, McpServers } from '../mcp/servers';
import { builtinTools, loadToolModules, ToolModuleError, ToolRegistry, type ToolDefinition } from '../tools';
import { CliError, ExitCode } from './cli-error';
import type { CliIo } from './io';

interface ToolRow {
  name: string;
  source: string;
  description: string;
  inputSchema?: unknown;
}

export async function toolsCommand(options: { json?: boolean }, io: CliIo): Promise<number> {
  const config = loadConfig();
  const sources: Array<{ source: string; tools: Array<ToolDefinition<never>> }> = [{ source: 'built-in', tools: builtinTools({ outboxDirectory: path.join(config.home, 'outbox') }) }];
  try {
    for (const module of config.toolModules) sources.push({ source: `module ${module}`, tools: loadToolModules([module]) });
  } catch (error) {
    if (error instanceof ToolModuleError) throw new CliError(error.message);
    throw error;
  }
  const mcp = await McpServers.connect(config.mcpServers, { warn: (line) => io.err(line) }).catch((error: unknown) => {
    throw error instanceof McpServerError ? new ConfigurationError(error.message) : error;
  });
  try {
    for (const { server, tools } of mcp.byServer) sources.push({ source: `mcp ${server}`, tools });
    const registry = new ToolRegistry(sources.flatMap((each) => each.tools));
    const rows: ToolRow[] = sources.flatMap(({ source, tools }) => tools.map((tool) => ({ ...registry.describe([tool.name])[0]!, source })));
    if (options.json) {
      io.json(rows.map(({ name, source, description, inputSchema }) => ({ name, source, description, ...(inputSchema ? { inputSchema } : {}) })));
      return ExitCode.ok;
    }
    const width = Math.max(...rows.map((row) => row.name.length));
    const sourceWidth = Math.max(...rows.map((row) => row.source.length));
    for (const row of rows) io.out(`${row.name.padEnd(width)}  ${row.source.padEnd(sourceWidth)}  ${row.description}`);
    return ExitCode.ok;
  } finally {
    await mcp.close();
  }
}

// keel mcp: Keel as an MCP server over stdio, for MCP clients (IDE agents, desktop assistants).
// Stdout carries the protocol, so everything else goes to stderr.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { KeelClient } from '../client';
import { keelMcpServer } from '../mcp/keel-server';
import { ExitCode } from './cli-error';
import type { CliIo } from './io';

export async function mcpCommand(io: CliIo, version: string): Promise<number> {
  const keel = await KeelClient.connect();
  const server = keelMcpServer(keel, version);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  await server.connect(new StdioServerTransport());
  io.err(`keel mcp: serving start_run, get_run, list_pending, decide and keel://runs/{id}/trace over stdio (Temporal ${keel.address}, task queue ${keel.taskQueue})`);
  await closed;
  await keel.close();
  return ExitCode.ok;
}

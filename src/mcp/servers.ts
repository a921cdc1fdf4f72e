// Tools from Model Context Protocol servers, through the official client: one connection per
// server per worker, made at start and reused by every call (reconnected once when it dropped).
// Each server tool becomes a Keel tool named `<server>__<tool>`: validated against its JSON Schema
// (ajv) before the call, called inside the activity that runs it, its progress sent as heartbeats,
// its cancellation sent as MCP's notifications/cancelled (the client does, when the signal aborts).
import { createHash } from 'node:crypto';
import { progressReporter } from '../activities/at-boundary';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { z } from 'zod';
import type { McpServerConfig } from '../config';
import { KeelError } from '../shared';
import { storeBlob, type BlobStore } from '../storage/blobs';
import type { ToolContext, ToolDefinition } from '../tools';

/** The `_meta` key each call carries Keel's idempotency key in: the same on every retry of the same call. */
export const idempotencyMetaKey = 'keel/idempotency-key';

/** Names models accept for tools. */
const toolName = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * `<server>__<tool>`, with any other character made "_"; a name past 64 characters keeps its first
 * 55 and ends with 8 hex characters of its full name's hash, so two long names stay apart.
 */
export function keelToolName(server: string, tool: string): string {
  const name = `${server}__${tool}`.replace(/[^a-zA-Z0-9_-]/g, '_');
  if (toolName.test(name)) return name;
  return `${name.slice(0, 55)}_${createHash('sha256').update(`${server}__${tool}`).digest('hex').slice(0, 8)}`;
}

/** `${NAME}` becomes the environment variable NAME; one that is unset is an error naming where it is used. */
export function withVariables(values: Record<string, string> | undefined, where: string, environment: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values ?? {})) {
    out[key] = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
      const found = environment[name];
      if (found === undefined) throw new McpServerError(`${where}.${key} uses \${${name}}, which is not set in the worker's environment: set it, or write the value`);
      return found;
    });
  }
  return out;
}

export class McpServerError extends Error {
  override readonly name = 'McpServerError';
}

/** One server: its connection, and its tools as Keel tools. */
class McpServer {
  private client: Client | undefined;
  /** The stdio server's process, while connected. */
  pid: number | undefined;
  private connecting: Promise<Client> | undefined;
  tools: Array<ToolDefinition<never>> = [];
  /** Tools the server lists that Keel cannot call (they require MCP tasks), by name. */
  leftOut: string[] = [];

  constructor(
    readonly name: string,
    private readonly config: McpServerConfig,
    private readonly environment: NodeJS.ProcessEnv,
    private readonly onToolsChanged: () => void,
    private readonly blobs: BlobStore | undefined,
  ) {}

  private transport(): Transport {
    const where = `mcpServers.${this.name}`;
    if ('command' in this.config) {
      return new StdioClientTransport({
        command: this.config.command,
        args: this.config.args,
        // The SDK's default environment (PATH, HOME, ...) and the configured variables; never the worker's secrets unless named.
        ...(this.config.env ? { env: { ...defaultEnvironment(this.environment), ...withVariables(this.config.env, `${where}.env`, this.environment) } } : {}),
        ...(this.config.cwd ? { cwd: this.config.cwd } : {}),
        stderr: 'ignore',
      });
    }
    const headers = withVariables(this.config.headers, `${where}.headers`, this.environment);
    return new StreamableHTTPClientTransport(new URL(this.config.url), { requestInit: { headers } });
  }

  /** The live connection: made on first use, and again after it dropped. */
  connection(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new Client({ name: 'keel', version: '0.1.0' });
      client.onclose = () => {
        if (this.client === client) this.client = undefined;
      };
      const transport = this.transport();
      try {
        await client.connect(transport);
        this.pid = transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
      } catch (error) {
        throw new McpServerError(`MCP server "${this.name}" did not start or answer: ${(error as Error).message}`);
      } finally {
        this.connecting = undefined;
      }
      client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
        await this.listTools().catch(() => undefined);
        this.onToolsChanged();
      });
      this.client = client;
      return client;
    })();
    return this.connecting;
  }

  /** Every tool the server lists, page after page. */
  async listTools(): Promise<void> {
    const client = await this.connection();
    const listed: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      listed.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    // A tool that can only run as an MCP task (an experimental part of the protocol Keel's client does not speak) is left out, by name.
    const needsTask = (tool: Tool) => (tool as { execution?: { taskSupport?: string } }).execution?.taskSupport === 'required';
    this.leftOut = listed.filter(needsTask).map((tool) => tool.name);
    this.tools = listed.filter((tool) => !needsTask(tool)).map((tool) => this.asKeelTool(tool));
  }

  private asKeelTool(tool: Tool): ToolDefinition<never> {
    const schema = tool.inputSchema as Record<string, unknown>;
    const check = compile(schema, `${this.name}/${tool.name}`);
    const input = z.record(z.string(), z.unknown()).superRefine((value, context) => {
      if (check(value)) return;
      for (const error of check.errors ?? []) context.addIssue({ code: 'custom', message: `${error.instancePath || '(input)'} ${error.message ?? 'is not valid'}`.trim() });
    });
    return {
      name: keelToolName(this.name, tool.name),
      description: tool.description ?? tool.title ?? `${tool.name} (MCP server ${this.name})`,
      input: input as unknown as z.ZodType<never>,
      jsonSchema: schema,
      // The server's own tool name is what its "approve" globs match.
      ...(matchesAny(tool.name, this.config.approve ?? []) ? { needsApproval: true } : {}),
      run: (args, context) => this.call(tool.name, args as Record<string, unknown>, context),
    };
  }

  /**
   * One call, on the shared connection (made again once if it dropped); progress is a heartbeat.
   * The call's `_meta` carries the idempotency key, the same on every retry, for a server that can use it.
   */
  async call(tool: string, args: Record<string, unknown>, context: Pick<ToolContext, 'signal' | 'idempotencyKey'>): Promise<unknown> {
    const { signal } = context;
    // Progress notifications arrive outside the activity's context: the reporter is made in it.
    const report = progressReporter();
    const onprogress = (progress: { progress: number; total?: number; message?: string }) => report({ mcpProgress: progress });
    const request = { name: tool, arguments: args, _meta: { [idempotencyMetaKey]: context.idempotencyKey } };
    const attempt = async () => (await this.connection()).callTool(request, undefined, { signal, onprogress, resetTimeoutOnProgress: true, timeout: 3_600_000 });
    let result;
    try {
      result = await attempt();
    } catch (error) {
      if (signal.aborted) throw error;
      // A dropped connection (a server that restarted): once more on a new one.
      if (this.client === undefined) result = await attempt().catch((again: unknown) => Promise.reject(callFailure(this.name, tool, again)));
      else throw callFailure(this.name, tool, error);
    }
    return resultOf(this.name, tool, result as CallToolResult, this.blobs);
  }

  async close(): Promise<void> {
    await this.client?.close().catch(() => undefined);
    this.client = undefined;
  }
}

// Formats (uri, date-time, email ...) are checked as the JSON Schema spec defines them; nothing is logged.
const ajv = addFormats(new Ajv({ allErrors: true, strict: false, logger: false }));
function compile(schema: Record<string, unknown>, where: string): ValidateFunction {
  try {
    const { $schema: _ignored, ...rest } = schema;
    return ajv.compile(rest);
  } catch (error) {
    throw new McpServerError(`the input schema of MCP tool ${where} cannot be used: ${(error as Error).message}`);
  }
}

/**
 * What a call returns: its structured content when it has some, else its text; isError is a
 * semantic failure the model or planner reads. Images, audio and embedded resources go to the blob
 * store, and the result holds references to them (whose preview says what each is), so history
 * never carries their bytes; links to resources stay as the server sent them.
 */
async function resultOf(server: string, tool: string, result: CallToolResult, blobs: BlobStore | undefined): Promise<unknown> {
  const texts = (result.content ?? []).filter((block) => block.type === 'text').map((block) => (block as { text: string }).text);
  if (result.isError) throw new KeelError('semantic', `MCP tool ${server}/${tool} reported an error: ${texts.join('\n') || 'no message'}`);
  if (result.structuredContent !== undefined) return result.structuredContent;
  const others = (result.content ?? []).filter((block) => block.type !== 'text');
  if (others.length === 0) return texts.join('\n');
  const content = await Promise.all(others.map((block) => (blobs && isMedia(block) ? storeBlob(block, blobs, mediaPreview(block)) : block)));
  return { ...(texts.length > 0 ? { text: texts.join('\n') } : {}), content };
}

type ContentBlock = NonNullable<CallToolResult['content']>[number];

function isMedia(block: ContentBlock): boolean {
  return block.type === 'image' || block.type === 'audio' || block.type === 'resource';
}

/** "image image/png, 1.2 kB base64" or "resource file:///a.txt (text/plain)": what a person reading history sees. */
function mediaPreview(block: ContentBlock): string {
  if (block.type === 'resource') return `resource ${block.resource.uri}${block.resource.mimeType ? ` (${block.resource.mimeType})` : ''}`;
  if (block.type === 'image' || block.type === 'audio') return `${block.type} ${block.mimeType}, ${block.data.length} characters of base64`;
  return block.type;
}

/**
 * How a failed call fails in Keel's classes: input the server refused is `semantic` (the model can
 * correct it), its deadline `timeout`, a dropped connection `transient`, and any other protocol
 * error `permanent` (retrying the same request would get the same answer).
 */
function callFailure(server: string, tool: string, error: unknown): KeelError {
  if (error instanceof KeelError) return error;
  const message = (error as Error).message ?? String(error);
  if (error instanceof McpError) {
    if (error.code === ErrorCode.InvalidParams) return new KeelError('semantic', `MCP tool ${server}/${tool} refused its input: ${message}`);
    if (error.code === ErrorCode.RequestTimeout) return new KeelError('timeout', `MCP tool ${server}/${tool} did not answer in time: ${message}`);
    if (error.code !== ErrorCode.ConnectionClosed) return new KeelError('permanent', `MCP server "${server}" refused the call to ${tool}: ${message}`);
  }
  return new KeelError('transient', `MCP server "${server}" failed the call to ${tool}: ${message}`);
}

/** `delete_*` and the like: "*" matches any run of characters, everything else itself. */
function matchesAny(name: string, globs: readonly string[]): boolean {
  return globs.some((glob) => new RegExp(`^${glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name));
}


function defaultEnvironment(environment: NodeJS.ProcessEnv): Record<string, string> {
  const keep = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'TMPDIR', 'LANG'];
  return Object.fromEntries(keep.flatMap((key) => (environment[key] ? [[key, environment[key]!]] : [])));
}

/** The worker's MCP servers: connected at start, listed, offered as tools, closed at shutdown. */
export class McpServers {
  private constructor(private readonly servers: McpServer[]) {}

  /**
   * Connects to every server and lists its tools. A server that cannot start or answer stops the
   * worker with its name and why, unless it is `optional`: then `warn` says so and it is left out.
   */
  static async connect(
    config: Record<string, McpServerConfig>,
    options: { warn: (line: string) => void; environment?: NodeJS.ProcessEnv; onToolsChanged?: (server: string) => void; blobs?: BlobStore },
  ): Promise<McpServers> {
    const servers: McpServer[] = [];
    for (const [name, server] of Object.entries(config)) {
      const changed = options.onToolsChanged;
      const connected = new McpServer(name, server, options.environment ?? process.env, changed ? () => changed(name) : () => undefined, options.blobs);
      try {
        await connected.listTools();
        servers.push(connected);
      } catch (error) {
        await connected.close();
        const message = error instanceof McpServerError ? error.message : `MCP server "${name}" did not list its tools: ${(error as Error).message}`;
        if (!server.optional) throw new McpServerError(`${message} (mcpServers.${name} in the config file; mark it "optional": true to start without it)`);
        options.warn(`warning: ${message}; the worker runs without it (optional)`);
      }
    }
    return new McpServers(servers);
  }

  /** Every server's tools, as Keel tools. */
  get tools(): Array<ToolDefinition<never>> {
    return this.servers.flatMap((server) => server.tools);
  }

  /** Each server's name and its tools. */
  get byServer(): Array<{ server: string; tools: Array<ToolDefinition<never>> }> {
    return this.servers.map((server) => ({ server: server.name, tools: server.tools }));
  }

  /** The process id of each stdio server this worker started, while it is connected (for operators). */
  get processIds(): Record<string, number | undefined> {
    return Object.fromEntries(this.servers.map((server) => [server.name, server.pid]));
  }

  /** What the worker's first lines say: each server and its tools (and any it left out, and why); `only` names one server. */
  describe(only?: string): string[] {
    return this.servers
      .filter((server) => only === undefined || server.name === only)
      .map((server) => {
        const leftOut = server.leftOut.length > 0 ? ` (left out, as they need MCP tasks: ${server.leftOut.join(', ')})` : '';
        return `MCP ${server.name}: ${server.tools.map((tool) => tool.name).join(', ') || '(no tools)'}${leftOut}`;
      });
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.close()));
  }
}

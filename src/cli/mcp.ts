// keel mcp: Keel as an MCP server for MCP clients (IDE agents, desktop assistants): over stdio, or
// with --http over Streamable HTTP. On stdio, stdout carries the protocol, so everything else goes
// to stderr.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { KeelClient } from '../client';
import { loadConfig } from '../config';
import { keelMcpServer, type McpCaller } from '../mcp/keel-server';
import { configuredAuthenticator, type Authenticator } from '../security/api-tokens';
import { CliError, ExitCode } from './cli-error';
import type { CliIo } from './io';

const offered = 'start_run, get_run, list_pending, decide and keel://runs/{id}/trace';

export async function mcpCommand(options: { http?: string }, io: CliIo, version: string): Promise<number> {
  const config = loadConfig();
  const keel = await KeelClient.connect({ door: 'keel mcp' });
  try {
    if (options.http !== undefined) return await serveHttp(keel, options.http, io, version, configuredAuthenticator(config.serve));
    const server = keelMcpServer(keel, version);
    const closed = new Promise<void>((resolve) => {
      server.server.onclose = () => resolve();
    });
    await server.connect(new StdioServerTransport());
    io.err(`keel mcp: serving ${offered} over stdio (Temporal ${keel.address}, task queue ${keel.taskQueue})`);
    await closed;
    return ExitCode.ok;
  } finally {
    await keel.close();
  }
}

/** Streamable HTTP at /mcp: one session (transport and server) per client, until the process is stopped. */
async function serveHttp(keel: KeelClient, address: string, io: CliIo, version: string, authenticate: Authenticator | undefined): Promise<number> {
  const match = /^(?:(.+):)?(\d+)$/.exec(address);
  if (!match) throw new CliError(`--http takes host:port or a port, e.g. 127.0.0.1:3100 (got "${address}")`);
  const host = match[1] ?? '127.0.0.1';
  const port = Number(match[2]);
  // Each session belongs to the caller whose token opened it.
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; caller: string | undefined }>();
  const refuse = (response: ServerResponse, status: number, message: string): void => {
    response.writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message }, id: null }));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse, body: unknown): Promise<void> => {
    if (!request.url?.startsWith('/mcp')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('keel mcp serves MCP at /mcp\n');
      return;
    }
    let caller: McpCaller | undefined;
    if (authenticate) {
      const checked = await authenticate(request.headers.authorization);
      if (!checked.ok) return refuse(response, checked.status, checked.error);
      caller = { name: checked.name, roles: checked.roles, ...(checked.groups ? { groups: checked.groups } : {}) };
    }
    const session = request.headers['mcp-session-id'];
    const known = typeof session === 'string' ? sessions.get(session) : undefined;
    if (known) {
      if (known.caller !== caller?.name) return refuse(response, 403, 'this session was opened with another token');
      return known.transport.handleRequest(request, response, body);
    }
    if (request.method !== 'POST' || !isInitializeRequest(body)) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'no such MCP session: start with an initialize request' }, id: null }));
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, caller: caller?.name });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await keelMcpServer(keel, version, caller).connect(transport);
    await transport.handleRequest(request, response, body);
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'the body is not JSON' }, id: null }));
        return;
      }
      handle(request, response, body).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(`keel mcp: ${(error as Error).message}\n`);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new CliError(`keel mcp cannot listen on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`)));
    server.listen(port, host, resolve);
  });
  io.err(
    `keel mcp: serving ${offered} over Streamable HTTP at http://${host}:${port}/mcp (Temporal ${keel.address}, task queue ${keel.taskQueue}); ` +
      `${authenticate ? 'bearer tokens only (KEEL_API_TOKENS, KEEL_OIDC_*)' : 'no token asked: keep it on loopback, or set KEEL_API_TOKENS'}; Ctrl-C stops it`,
  );
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await Promise.all([...sessions.values()].map(({ transport }) => transport.close()));
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await stopped;
  return ExitCode.ok;
}

// Keel as an MCP server (`keel mcp`): any MCP client (an IDE agent, a desktop assistant) can start
// runs, follow them, list the escalations that wait for a human and decide them, through the same
// client and the same validation as the CLI and the SDK; and read a run's trace as a resource.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { KeelClient } from '../client';
import { roleRefusal, type ApiRole } from '../security/api-tokens';
import { signerFor } from '../security/decision-keys';
import { AgentRequestSchema, DecisionSchema } from '../shared';
import { parseHistory } from '../trace/replay';
import { renderTimelineText } from '../trace/render-text';
import { buildTimeline } from '../trace/timeline';

const runId = { workflowId: z.string().min(1).describe('the run id keel start_run returned') };

/** A tool's answer: the value as JSON text and as structured content. */
const answer = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value as Record<string, unknown> });
/** A refusal the client's model can read and correct: the error's own words. */
const refusal = (error: unknown): CallToolResult => ({ content: [{ type: 'text', text: (error as Error).message ?? String(error) }], isError: true });
const guarded = async (body: () => Promise<unknown>): Promise<CallToolResult> => {
  try {
    return answer(await body());
  } catch (error) {
    return refusal(error);
  }
};

/** Who is calling, when the door checked a bearer token (`keel mcp --http` with KEEL_API_TOKENS or KEEL_OIDC_*). */
export interface McpCaller {
  name: string;
  roles: readonly ApiRole[];
  groups?: readonly string[];
}

export function keelMcpServer(keel: KeelClient, version: string, caller?: McpCaller): McpServer {
  const server = new McpServer({ name: 'keel', version });
  // Without a checked caller (stdio: the process's own user), every tool is open, as the CLI is.
  const may = (role: ApiRole) => {
    if (caller && !caller.roles.includes(role)) throw new Error(roleRefusal(role));
  };
  server.registerTool(
    'start_run',
    {
      description: 'Start a Keel run: a goal, the tools it may use, a budget, and optionally a plan, an agent loop or a scripted scenario. Returns the run id.',
      inputSchema: AgentRequestSchema,
    },
    (request) =>
      guarded(async () => {
        may('starter');
        return { ...(await keel.startRun(request, caller ? { as: signerFor(caller, 'keel mcp') } : {})) };
      }),
  );
  server.registerTool(
    'get_run',
    { description: "A run's state while it runs (phase, tasks, cost), or its result once it has ended.", inputSchema: runId },
    ({ workflowId }) => guarded(() => keel.getStatus(workflowId)),
  );
  server.registerTool(
    'list_pending',
    { description: 'Runs waiting for a human decision: what each waits on, its choices and its default.', inputSchema: {} },
    () => guarded(async () => ({ runs: await keel.listPending() })),
  );
  server.registerTool(
    'decide',
    {
      description: "Decide a run's pending escalation (approve, reject, retry, skip, replan with guidance); refused when the run cannot take it, with why.",
      inputSchema: { ...runId, decision: DecisionSchema },
    },
    ({ workflowId, decision }) =>
      guarded(async () => {
        may('approver');
        // A checked caller decides under its own name, whatever `by` (or a signature it brought) says.
        const { signature: _given, ...unsigned } = decision;
        return { ...(await keel.decide(workflowId, caller ? { ...unsigned, by: caller.name } : decision, caller ? { as: signerFor(caller, 'keel mcp') } : {})), ...(caller ? { by: caller.name } : {}) };
      }),
  );
  server.registerResource(
    'run-trace',
    new ResourceTemplate('keel://runs/{workflowId}/trace', { list: undefined }),
    { description: "A run's trace: each plan, task attempt and wait as a waterfall, with the critical path.", mimeType: 'text/plain' },
    async (uri, { workflowId }) => {
      const id = String(workflowId);
      const timeline = buildTimeline(parseHistory(await keel.exportHistory(id), id));
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: renderTimelineText(timeline) }] };
    },
  );
  return server;
}

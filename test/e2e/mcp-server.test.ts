// `keel mcp`, driven by the official MCP client over stdio: it lists Keel's tools, starts a
// scenario run, finds it pending, refuses a decision the run cannot take with the run's own words,
// takes the approval, reports the result, and serves the run's trace as a resource.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { parseScenario } from '../../src/shared';
import { createTestKit, testAddress, type TestKit } from '../helpers/temporal';

let kit: TestKit;
let client: Client;
beforeAll(async () => {
  kit = await createTestKit();
  client = new Client({ name: 'keel-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [path.resolve('bin/keel.js'), 'mcp'],
      env: { ...(process.env as Record<string, string>), TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: kit.taskQueue, KEEL_CONFIG: '' },
      stderr: 'ignore',
    }),
  );
}, 60_000);
afterAll(async () => {
  await client.close();
  await kit.close();
});

type Structured<T> = { structuredContent?: T; isError?: boolean; content: Array<{ type: string; text?: string }> };
const call = async <T>(name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as Structured<T>;

test('start a run, find it pending, decide it, read its result and its trace', async () => {
  const { tools } = await client.listTools();
  expect(tools.map((tool) => tool.name).sort()).toEqual(['decide', 'get_run', 'list_pending', 'start_run']);
  expect(Object.keys((tools.find((tool) => tool.name === 'start_run')!.inputSchema as { properties: Record<string, unknown> }).properties)).toEqual(expect.arrayContaining(['goal', 'tools', 'budgetUsd', 'plan', 'agent']));

  const { request } = parseScenario(readFileSync('examples/escalation-approval.json', 'utf8'), 'escalation-approval.json');
  const result = await kit.withWorker(async () => {
    const started = await call<{ workflowId: string }>('start_run', request as Record<string, unknown>);
    expect(started.isError).toBeFalsy();
    const workflowId = started.structuredContent!.workflowId;
    let pending: Array<{ workflowId: string; pending: { kind: string } | null }> = [];
    for (let tries = 0; tries < 60 && !pending.some((run) => run.workflowId === workflowId && run.pending); tries++) {
      pending = (await call<{ runs: typeof pending }>('list_pending')).structuredContent!.runs;
      if (!pending.some((run) => run.workflowId === workflowId && run.pending)) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(pending.find((run) => run.workflowId === workflowId)!.pending).toMatchObject({ kind: 'human_review' });

    const refused = await call('decide', { workflowId, decision: { decision: 'skip' } });
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toContain('"skip" is not possible here');
    const decided = await call<{ decision: string }>('decide', { workflowId, decision: { decision: 'approve', by: 'assistant', note: 'looks right' } });
    expect(decided.structuredContent).toMatchObject({ decision: 'approve' });

    let state: { phase?: string; result?: { status: string } } = {};
    for (let tries = 0; tries < 60 && state.phase !== 'completed'; tries++) {
      state = (await call<typeof state>('get_run', { workflowId })).structuredContent!;
      if (state.phase !== 'completed') await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return { workflowId, state };
  });
  expect(result.state.result).toMatchObject({ status: 'completed' });
  const trace = await client.readResource({ uri: `keel://runs/${result.workflowId}/trace` });
  expect(trace.contents[0]).toMatchObject({ mimeType: 'text/plain', text: expect.stringContaining('approve by assistant') });
}, 90_000);

test('a request the doors refuse comes back as an error the client reads, naming the field', async () => {
  const refused = await call('start_run', { goal: 'g', deadline: '2000-01-01T00:00:00Z' });
  expect(refused.isError).toBe(true);
  expect(refused.content[0]!.text).toMatch(/deadline/);
});

// @modelcontextprotocol/server-filesystem, a real MCP server, on a temp dir: a plan writes a file
// (after a human approves, as the server's "approve" glob asks) and reads it back; a path outside
// the allowed dir is refused by the server (isError) and is a semantic failure: a plan replans, an
// agent's model reads the refusal and corrects itself.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { McpServers } from '../../src/mcp/servers';
import { defaultDependencies } from '../../src/worker';
import { waitForPending } from '../helpers/escalation';
import { activityInputs } from '../helpers/history';
import { createTestKit, type TestKit } from '../helpers/temporal';

const dir = mkdtempSync(path.join(os.tmpdir(), 'keel-mcp-files-'));
let mcp: McpServers;
let kit: TestKit;
beforeAll(async () => {
  mcp = await McpServers.connect(
    { files: { command: process.execPath, args: [path.resolve('node_modules/@modelcontextprotocol/server-filesystem/dist/index.js'), dir], approve: ['write_*', 'edit_file'], optional: false } },
    { warn: () => undefined },
  );
  kit = await createTestKit({ dependencies: defaultDependencies({ home: '.keel/test/mcp-files' }, { mcp }) });
}, 60_000);
afterAll(async () => {
  await kit.close();
  await mcp.close();
});

test('a plan writes a file once a human approves (the approve glob), then reads it back', async () => {
  const file = path.join(dir, 'note.txt');
  expect(mcp.tools.filter((tool) => tool.needsApproval).map((tool) => tool.name)).toEqual(['files__write_file', 'files__edit_file']);
  const result = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun({
      goal: 'keep a note and read it back',
      tools: ['files__write_file', 'files__read_text_file'],
      plan: {
        tasks: [
          { id: 'write', kind: 'tool', tool: 'files__write_file', description: 'write the note', input: { path: file, content: 'kept by keel' } },
          { id: 'read', kind: 'tool', tool: 'files__read_text_file', description: 'read it back', input: { path: file }, dependsOn: ['write'] },
        ],
        outputFrom: 'read',
      },
      escalation: { timeoutMs: 60_000, defaultAction: 'reject' },
      scenario: { model: {}, tools: {} },
    });
    expect(await waitForPending(kit.keel, workflowId)).toMatchObject({ kind: 'tool_approval', taskId: 'write' });
    expect(existsSync(file)).toBe(false);
    await kit.keel.decide(workflowId, { decision: 'approve', by: 'ana' });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(JSON.parse(result.output!)).toEqual({ content: 'kept by keel' });
  expect(readFileSync(file, 'utf8')).toBe('kept by keel');
});

test("a path outside the allowed dir is the server's refusal: semantic, so the plan is replanned", async () => {
  const inside = path.join(dir, 'inside.txt');
  const result = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun({
      goal: 'read the hostname',
      tools: ['files__read_text_file', 'files__list_allowed_directories'],
      escalation: { timeoutMs: 1_000, defaultAction: 'reject' },
      scenario: {
        model: {
          plan: [
            { tasks: [{ id: 'read', kind: 'tool', tool: 'files__read_text_file', description: 'read it', input: { path: '/etc/hostname' } }], outputFrom: 'read' },
            { tasks: [{ id: 'where', kind: 'tool', tool: 'files__list_allowed_directories', description: 'where may I read', input: {} }], outputFrom: 'where' },
          ],
        },
        tools: {},
      },
    });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.replans).toBe(1);
  expect(result.tasks.find((task) => task.id === 'read')).toMatchObject({ status: 'failed', error: { kind: 'semantic', message: expect.stringContaining('Access denied - path outside allowed directories') } });
  expect(result.output).toContain(dir);
  expect(existsSync(inside)).toBe(false);
});

test('an agent reads the refusal and corrects the path', async () => {
  const file = path.join(dir, 'agent.txt');
  const result = await kit.run({
    goal: 'read the note',
    tools: ['files__read_text_file'],
    agent: {},
    scenario: {
      model: { 'step:agent': [{ toolCalls: [{ tool: 'files__read_text_file', input: { path: '/etc/hostname' } }] }, { toolCalls: [{ tool: 'files__read_text_file', input: { path: file } }] }, { text: 'done' }] },
      tools: {},
    },
  });
  expect(result.status).toBe('completed');
  const steps = (await activityInputs(kit.client, result.workflowId, 'agentStep')) as Array<{ newMessages: Array<{ error?: string }> }>;
  expect(steps[1]!.newMessages[0]!.error).toContain('Access denied - path outside allowed directories: /etc/hostname');
  // The file does not exist: that is the server's refusal too, and the model reads it.
  expect(steps[2]!.newMessages[0]!.error).toMatch(/ENOENT|no such file/i);
});

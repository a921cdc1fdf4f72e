// Tools from a real MCP server (@modelcontextprotocol/server-everything, over stdio and Streamable
// HTTP) through the official client: listed at start as `<server>__<tool>`, called as activities
// by an agent loop and by a plan's tool task, their input checked against the server's JSON Schema
// first; a server that cannot start stops the worker unless it is optional.
import { spawn, type ChildProcess } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { McpServers, keelToolName } from '../../src/mcp/servers';
import { FileBlobStore } from '../../src/storage/blobs';
import { isBlobRef } from '../../src/shared';
import type { ActivityDependencies } from '../../src/activities/create-activities';
import { defaultDependencies } from '../../src/worker';
import { activityInputs } from '../helpers/history';
import { createTestKit, type TestKit } from '../helpers/temporal';
import { freePort } from '../helpers/cli';

const everything = path.resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const notes = path.resolve('test/fixtures/mcp/notes-server.mjs');
const blobs = new FileBlobStore(path.resolve('.keel/test/mcp/blobs'));
const toolsChanged: string[] = [];
let mcp: McpServers;
let dependencies: ActivityDependencies;
let kit: TestKit;
beforeAll(async () => {
  mcp = await McpServers.connect(
    {
      everything: { command: process.execPath, args: [everything, 'stdio'], optional: false },
      notes: { command: process.execPath, args: [notes], env: { NOTES_FILE: path.resolve('.keel/test/mcp/notes.jsonl') }, optional: false },
    },
    { warn: () => undefined, blobs, onToolsChanged: (server) => toolsChanged.push(server) },
  );
  dependencies = defaultDependencies({ home: '.keel/test/mcp' }, { mcp, blobs });
  kit = await createTestKit({ dependencies });
}, 60_000);
afterAll(async () => {
  await kit.close();
  await mcp.close();
});

test("the server's tools are Keel tools named <server>__<tool>, with its descriptions and JSON Schemas", () => {
  const names = mcp.tools.map((tool) => tool.name);
  expect(names).toEqual(expect.arrayContaining(['everything__echo', 'everything__get-sum', 'everything__get-structured-content']));
  expect(mcp.describe()[0]).toMatch(/^MCP everything: .*everything__echo/);
  // A tool that only runs as an MCP task (experimental; Keel's client does not speak it) is left out, and the worker says so.
  expect(names).not.toContain('everything__simulate-research-query');
  expect(mcp.describe('everything')[0]).toMatch(/\(left out, as they need MCP tasks: simulate-research-query\)$/);
  expect(dependencies.tools.describe(['everything__get-sum'])[0]).toMatchObject({ name: 'everything__get-sum', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } });
  // Names models accept: other characters become "_", and a long name keeps a hash of the full one.
  expect(keelToolName('my.server', 'do it')).toBe('my_server__do_it');
  const long = keelToolName('server', 'x'.repeat(80));
  expect(long).toMatch(/^server__x{47}_[0-9a-f]{8}$/);
  expect(long).not.toBe(keelToolName('server', `${'x'.repeat(79)}y`));
});

test('an agent loop calls MCP tools as activities; input the tool schema refuses comes back to the model, which corrects it', async () => {
  const result = await kit.run({
    goal: 'add 2 and 3, and echo the answer',
    tools: ['everything__get-sum', 'everything__echo'],
    agent: {},
    scenario: {
      model: {
        'step:agent': [
          { toolCalls: [{ tool: 'everything__get-sum', input: { a: 2, b: 3 } }, { tool: 'everything__echo', input: { message: 5 } }] },
          { toolCalls: [{ tool: 'everything__echo', input: { message: 'five' } }] },
          { text: '2 + 3 = 5' },
        ],
      },
      tools: {},
    },
  });
  expect(result.status).toBe('completed');
  expect(result.tasks[0]).toMatchObject({
    toolCalls: [
      { step: 1, tool: 'everything__get-sum', status: 'completed' },
      { step: 1, tool: 'everything__echo', status: 'failed' },
      { step: 2, tool: 'everything__echo', status: 'completed' },
    ],
  });
  const steps = (await activityInputs(kit.client, result.workflowId, 'agentStep')) as Array<{ newMessages: Array<{ tool?: string; result?: unknown; error?: string }> }>;
  expect(steps[1]!.newMessages).toEqual([
    expect.objectContaining({ tool: 'everything__get-sum', result: 'The sum of 2 and 3 is 5.' }),
    expect.objectContaining({ tool: 'everything__echo', error: expect.stringContaining('/message must be string') }),
  ]);
  expect(steps[2]!.newMessages).toEqual([expect.objectContaining({ tool: 'everything__echo', result: 'Echo: five' })]);
  expect(await activityInputs(kit.client, result.workflowId, 'callTool')).toHaveLength(3);
});

test("a plan's tool task calls an MCP tool; structured content is the task's output", async () => {
  const result = await kit.run({
    goal: 'the weather in New York',
    tools: ['everything__get-structured-content'],
    plan: { tasks: [{ id: 'weather', kind: 'tool', tool: 'everything__get-structured-content', description: 'ask the weather', input: { location: 'New York' } }], outputFrom: 'weather' },
    scenario: { model: {}, tools: {} },
  });
  expect(result.status).toBe('completed');
  expect(JSON.parse(result.output!)).toEqual(expect.objectContaining({ temperature: expect.any(Number) }));
});

test('images from an MCP tool go to the blob store; history holds a reference that says what it is', async () => {
  const result = await kit.run({
    goal: 'a tiny image',
    tools: ['everything__get-tiny-image'],
    plan: { tasks: [{ id: 'image', kind: 'tool', tool: 'everything__get-tiny-image', description: 'get the image', input: {} }], outputFrom: 'image' },
    scenario: { model: {}, tools: {} },
  });
  expect(result.status).toBe('completed');
  const history = JSON.stringify((await kit.client.workflow.getHandle(result.workflowId).fetchHistory()).events);
  const output = JSON.parse(result.output!) as { text: string; content: unknown[] };
  expect(output.text).toMatch(/the image above is the MCP logo/i);
  const [image] = output.content;
  expect(isBlobRef(image)).toBe(true);
  expect(image).toMatchObject({ preview: expect.stringMatching(/^image image\/png, \d+ characters of base64$/) });
  const stored = JSON.parse((await blobs.get((image as { $keelBlob: string }).$keelBlob))!) as { type: string; mimeType: string; data: string };
  expect(stored).toMatchObject({ type: 'image', mimeType: 'image/png' });
  expect(Buffer.from(stored.data, 'base64').subarray(1, 4).toString()).toBe('PNG');
  // The picture's bytes are nowhere in the run's history.
  expect(history).not.toContain(stored.data.slice(0, 64));
});

test("a supplied plan calls two of the server's tools; an embedded resource goes to the blob store", async () => {
  const result = await kit.run({
    goal: 'add, and compress a note',
    tools: ['everything__get-sum', 'everything__gzip-file-as-resource'],
    plan: {
      tasks: [
        { id: 'sum', kind: 'tool', tool: 'everything__get-sum', description: 'add', input: { a: 20, b: 22 } },
        { id: 'zip', kind: 'tool', tool: 'everything__gzip-file-as-resource', description: 'compress', input: { name: 'note.txt.gz', data: 'data:text/plain;base64,aGVsbG8=', outputType: 'resource' }, dependsOn: ['sum'] },
      ],
      outputFrom: 'zip',
    },
    scenario: { model: {}, tools: {} },
  });
  expect(result.status).toBe('completed');
  expect(result.tasks.map((task) => [task.id, task.status])).toEqual([['sum', 'completed'], ['zip', 'completed']]);
  const [resource] = (JSON.parse(result.output!) as { content: unknown[] }).content;
  expect(resource).toMatchObject({ preview: expect.stringMatching(/^resource \S+note\.txt\.gz \(application\/gzip\)$/) });
  const stored = JSON.parse((await blobs.get((resource as { $keelBlob: string }).$keelBlob))!) as { resource: { blob: string } };
  expect(gunzipSync(Buffer.from(stored.resource.blob, 'base64')).toString()).toBe('hello');
});

test("the server's error (isError) is semantic, with its text: the plan is replanned", async () => {
  const result = await kit.run({
    goal: 'compress a file',
    tools: ['everything__gzip-file-as-resource', 'everything__echo'],
    scenario: {
      model: {
        plan: [
          { tasks: [{ id: 'zip', kind: 'tool', tool: 'everything__gzip-file-as-resource', description: 'compress', input: { data: 'ftp://example.com/file.txt' } }], outputFrom: 'zip' },
          { tasks: [{ id: 'say', kind: 'tool', tool: 'everything__echo', description: 'say it cannot', input: { message: 'only http, https and data URLs' } }], outputFrom: 'say' },
        ],
      },
      tools: {},
    },
  });
  expect(result).toMatchObject({ status: 'completed', replans: 1, output: 'Echo: only http, https and data URLs' });
  expect(result.tasks.find((task) => task.id === 'zip')).toMatchObject({
    status: 'failed',
    error: { kind: 'semantic', message: expect.stringContaining('Unsupported URL protocol for ftp://example.com/file.txt') },
  });
});

test('a server that adds a tool while connected (notifications/tools/list_changed) has it offered to the next run', async () => {
  expect(mcp.tools.map((tool) => tool.name)).not.toContain('notes__greet');
  const added = await kit.run({
    goal: 'add a tool',
    tools: ['notes__add_tool'],
    plan: { tasks: [{ id: 'add', kind: 'tool', tool: 'notes__add_tool', description: 'add the greet tool', input: { name: 'greet' } }], outputFrom: 'add' },
    scenario: { model: {}, tools: {} },
  });
  expect(added).toMatchObject({ status: 'completed', output: 'added greet' });
  const deadline = Date.now() + 10_000;
  while (!mcp.tools.some((tool) => tool.name === 'notes__greet') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(toolsChanged).toContain('notes');
  expect(mcp.describe('notes')[0]).toMatch(/notes__greet/);
  const greeted = await kit.run({
    goal: 'greet',
    tools: ['notes__greet'],
    plan: { tasks: [{ id: 'greet', kind: 'tool', tool: 'notes__greet', description: 'greet ada', input: { who: 'ada' } }], outputFrom: 'greet' },
    scenario: { model: {}, tools: {} },
  });
  expect(greeted).toMatchObject({ status: 'completed', output: 'hello ada, from greet' });
});

test('a server that died is started again by the next call, which succeeds', async () => {
  const before = mcp.processIds.everything!;
  process.kill(before, 'SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const result = await kit.run({
    goal: 'add',
    tools: ['everything__get-sum'],
    plan: { tasks: [{ id: 'sum', kind: 'tool', tool: 'everything__get-sum', description: 'add', input: { a: 4, b: 5 } }], outputFrom: 'sum' },
    scenario: { model: {}, tools: {} },
  });
  expect(result).toMatchObject({ status: 'completed', output: 'The sum of 4 and 5 is 9.' });
  expect(mcp.processIds.everything).toEqual(expect.any(Number));
  expect(mcp.processIds.everything).not.toBe(before);
});

test('a long-running MCP tool reports its progress as heartbeat details; cancelling the run cancels the call, which never completes', async () => {
  const outcome = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun({
      goal: 'a long operation',
      tools: ['everything__trigger-long-running-operation'],
      plan: { tasks: [{ id: 'wait', kind: 'tool', tool: 'everything__trigger-long-running-operation', description: 'run it', input: { duration: 60, steps: 60 } }], outputFrom: 'wait' },
      scenario: { model: {}, tools: {} },
    });
    const handle = kit.client.workflow.getHandle(workflowId);
    let details = '';
    for (let tries = 0; tries < 150 && !details.includes('mcpProgress'); tries++) {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const decoded = pending.flatMap((activity) => (activity.heartbeatDetails?.payloads ?? []).map((payload) => Buffer.from(payload.data ?? []).toString('utf8')));
      details = JSON.stringify(decoded.filter((text) => text.startsWith('{')).map((text) => JSON.parse(text) as unknown));
      if (!details.includes('mcpProgress')) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await handle.cancel();
    await handle.result().catch(() => undefined);
    return { workflowId, details };
  });
  expect(outcome.details).toMatch(/"mcpProgress":\{"progress":\d+,"total":60/);
  // The run asked for the call's cancellation, and the 60-second call never completed: its activity's
  // abort signal aborted the MCP request (the client sends the server notifications/cancelled).
  const history = await kit.client.workflow.getHandle(outcome.workflowId).fetchHistory();
  const types = (history.events ?? []).map((event) => Number(event.eventType));
  const { EventType } = temporal.api.enums.v1;
  expect(types).toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED);
  expect(types).not.toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
}, 60_000);

describe('starting', () => {
  let http: ChildProcess | undefined;
  afterAll(() => http?.kill());

  test('over Streamable HTTP too, with headers from the environment', async () => {
    const port = await freePort();
    http = spawn(process.execPath, [everything, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
    let servers: McpServers | undefined;
    for (let tries = 0; tries < 50 && !servers; tries++) {
      servers = await McpServers.connect(
        { remote: { url: `http://127.0.0.1:${port}/mcp`, headers: { authorization: 'Bearer ${MCP_TEST_TOKEN}' }, optional: false } },
        { warn: () => undefined, environment: { MCP_TEST_TOKEN: 'secret-token' } },
      ).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return undefined;
      });
    }
    expect(servers!.tools.map((tool) => tool.name)).toContain('remote__get-sum');
    await expect(servers!.tools.find((tool) => tool.name === 'remote__get-sum')!.run({ a: 1, b: 1 } as never, { workflowId: 'w', taskId: 't', idempotencyKey: 'k', signal: new AbortController().signal })).resolves.toBe(
      'The sum of 1 and 1 is 2.',
    );
    await servers!.close();
  });

  test('a server that cannot start stops the worker, naming it; marked optional, the worker warns and goes on', async () => {
    const broken = { command: process.execPath, args: ['-e', 'process.exit(3)'] };
    await expect(McpServers.connect({ broken: { ...broken, optional: false } }, { warn: () => undefined })).rejects.toThrow(
      /MCP server "broken" did not start or answer: .*\(mcpServers\.broken in the config file; mark it "optional": true to start without it\)/,
    );
    const warnings: string[] = [];
    const servers = await McpServers.connect({ broken: { ...broken, optional: true } }, { warn: (line) => warnings.push(line) });
    expect(servers.tools).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^warning: MCP server "broken" did not start or answer: .*the worker runs without it \(optional\)$/)]);
  });

  test('a variable the config names but the environment lacks is refused, naming where', async () => {
    await expect(
      McpServers.connect({ gh: { command: process.execPath, args: [everything, 'stdio'], env: { GITHUB_TOKEN: '${GITHUB_TOKEN_FOR_TEST}' }, optional: false } }, { warn: () => undefined, environment: {} }),
    ).rejects.toThrow('mcpServers.gh.env.GITHUB_TOKEN uses ${GITHUB_TOKEN_FOR_TEST}, which is not set in the worker\'s environment: set it, or write the value');
  });
});

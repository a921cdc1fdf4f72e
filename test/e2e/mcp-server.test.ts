// `keel mcp`, driven by the official MCP client over stdio, and by @modelcontextprotocol/inspector-cli: it lists Keel's tools, starts a
// scenario run, finds it pending, refuses a decision the run cannot take with the run's own words,
// takes the approval, reports the result, and serves the run's trace as a resource.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseScenario, type TrustedKey } from '../../src/shared';
import { tokenHash } from '../../src/security/api-tokens';
import { newKeyPair, parseDecisionKeys } from '../../src/security/decision-keys';
import { defaultDependencies } from '../../src/worker';
import { freePort } from '../helpers/cli';
import { createTestKit, testAddress, type TestKit } from '../helpers/temporal';

const doorKey = newKeyPair('mcp-door');

const exec = promisify(execFile);
let kit: TestKit;
let client: Client;
beforeAll(async () => {
  // The worker trusts keel mcp's door key, so a decision sent with a token is recorded as verified.
  kit = await createTestKit({ dependencies: { ...defaultDependencies({ home: '.keel/test/mcp-server' }), approvals: { keys: parseDecisionKeys(doorKey.decisionKey) as TrustedKey[] } } });
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

/** What a `keel mcp --http` process has written to stderr so far. */
const written = new WeakMap<ChildProcess, string>();
function stderrOf(served: ChildProcess): string {
  if (!written.has(served)) {
    written.set(served, '');
    served.stderr!.on('data', (chunk: Buffer) => written.set(served, written.get(served) + String(chunk)));
  }
  return written.get(served)!;
}

/** SIGTERM stops it: sessions closed, the listener closed, the process gone. Its exit code, or 'still running' after 10 s (then it is killed). */
async function stopServed(served: ChildProcess): Promise<number | null | 'still running'> {
  const exited = new Promise<number | null>((resolve) => served.once('exit', (code) => resolve(code)));
  served.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 10_000))]);
  if (code === 'still running') served.kill('SIGKILL');
  return code;
}

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

test('@modelcontextprotocol/inspector-cli, a client Keel did not write, starts a run, finds it pending, decides it and reads the result', async () => {
  // inspector-cli 1.0.3 finds its own package.json relative to the working directory: run it from its build directory.
  const build = path.resolve('node_modules/@modelcontextprotocol/inspector-cli/build');
  const inspect = async (...args: string[]): Promise<Record<string, unknown>> => {
    const { stdout } = await exec(process.execPath, [path.join(build, 'index.js'), process.execPath, path.resolve('bin/keel.js'), 'mcp', ...args], {
      cwd: build,
      env: { ...process.env, TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: kit.taskQueue, KEEL_CONFIG: '' },
    });
    return JSON.parse(stdout) as Record<string, unknown>;
  };
  const structured = (answer: Record<string, unknown>) => answer.structuredContent as Record<string, unknown>;
  const listed = (await inspect('--method', 'tools/list')) as { tools: Array<{ name: string }> };
  expect(listed.tools.map((tool) => tool.name).sort()).toEqual(['decide', 'get_run', 'list_pending', 'start_run']);

  const { request } = parseScenario(readFileSync('examples/escalation-approval.json', 'utf8'), 'escalation-approval.json');
  const args = Object.entries(request).flatMap(([key, value]) => ['--tool-arg', `${key}=${JSON.stringify(value)}`]);
  const ended = await kit.withWorker(async () => {
    const workflowId = String(structured(await inspect('--method', 'tools/call', '--tool-name', 'start_run', ...args)).workflowId);
    for (let tries = 0; tries < 60; tries++) {
      const runs = structured(await inspect('--method', 'tools/call', '--tool-name', 'list_pending')).runs as Array<{ workflowId: string; pending: unknown }>;
      if (runs.some((run) => run.workflowId === workflowId && run.pending)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const decided = await inspect('--method', 'tools/call', '--tool-name', 'decide', '--tool-arg', `workflowId=${workflowId}`, '--tool-arg', 'decision={"decision":"approve","by":"inspector"}');
    expect(structured(decided)).toMatchObject({ decision: 'approve' });
    return kit.keel.getResult(workflowId);
  });
  expect(ended).toMatchObject({ status: 'completed', escalations: [expect.objectContaining({ decision: 'approve', decidedBy: 'inspector' })] });
}, 120_000);

test('keel mcp --http serves the same tools over Streamable HTTP at /mcp; a busy port is refused with a clear error', async () => {
  const port = await freePort();
  const env = { ...process.env, TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: kit.taskQueue, KEEL_CONFIG: '' };
  const served = spawn(process.execPath, [path.resolve('bin/keel.js'), 'mcp', '--http', `127.0.0.1:${port}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const said = () => stderrOf(served);
  try {
    for (let tries = 0; tries < 100 && !said().includes('Streamable HTTP'); tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(said()).toContain(`serving start_run, get_run, list_pending, decide and keel://runs/{id}/trace over Streamable HTTP at http://127.0.0.1:${port}/mcp`);
    const remote = new Client({ name: 'keel-test-http', version: '1.0.0' });
    await remote.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
    expect((await remote.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['decide', 'get_run', 'list_pending', 'start_run']);
    const pending = (await remote.callTool({ name: 'list_pending', arguments: {} })) as Structured<{ runs: unknown[] }>;
    expect(Array.isArray(pending.structuredContent!.runs)).toBe(true);
    await remote.close();
    const busy = await exec(process.execPath, [path.resolve('bin/keel.js'), 'mcp', '--http', `127.0.0.1:${port}`], { env }).catch((error: { code: number; stderr: string }) => error);
    expect(busy).toMatchObject({ code: 2, stderr: expect.stringContaining(`keel mcp cannot listen on 127.0.0.1:${port}: the port is in use`) });
  } finally {
    expect(await stopServed(served)).toBe(0);
  }
}, 60_000);

test('keel mcp --http with KEEL_API_TOKENS: no token, a wrong one, or another caller\'s session is refused; roles gate the tools; decisions are recorded under the token\'s name', async () => {
  const port = await freePort();
  const secrets = { vera: 'vera-mcp-token-12345', alice: 'alice-mcp-token-12345' };
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: testAddress(),
    KEEL_TASK_QUEUE: kit.taskQueue,
    KEEL_CONFIG: '',
    KEEL_API_TOKENS: `vera:${tokenHash(secrets.vera)}:viewer,alice:${tokenHash(secrets.alice)}:approver+viewer+starter`,
    KEEL_SIGNING_KEY: doorKey.signingKey,
  };
  const served = spawn(process.execPath, [path.resolve('bin/keel.js'), 'mcp', '--http', `127.0.0.1:${port}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const said = () => stderrOf(served);
  const url = new URL(`http://127.0.0.1:${port}/mcp`);
  const connect = async (token?: string) => {
    const remote = new Client({ name: 'keel-test-auth', version: '1.0.0' });
    await remote.connect(new StreamableHTTPClientTransport(url, token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {}));
    return remote;
  };
  try {
    for (let tries = 0; tries < 100 && !said().includes('Streamable HTTP'); tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(said()).toContain('bearer tokens only');
    await expect(connect()).rejects.toThrow(/send Authorization: Bearer <token>|401/);
    await expect(connect('not-a-token')).rejects.toThrow(/the token is not valid|401/);

    const viewer = await connect(secrets.vera);
    const alice = await connect(secrets.alice);
    const { request } = parseScenario(readFileSync('examples/escalation-approval.json', 'utf8'), 'escalation-approval.json');
    const refusedStart = (await viewer.callTool({ name: 'start_run', arguments: request })) as Structured<unknown>;
    expect(refusedStart).toMatchObject({ isError: true, content: [{ text: 'this token may not start runs: it needs the role starter' }] });
    const ended = await kit.withWorker(async () => {
      const started = (await alice.callTool({ name: 'start_run', arguments: request })) as Structured<{ workflowId: string }>;
      const { workflowId } = started.structuredContent!;
      for (let tries = 0; tries < 60; tries++) {
        const { runs } = ((await viewer.callTool({ name: 'list_pending', arguments: {} })) as Structured<{ runs: Array<{ workflowId: string; pending: unknown }> }>).structuredContent!;
        if (runs.some((run) => run.workflowId === workflowId && run.pending)) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const refused = (await viewer.callTool({ name: 'decide', arguments: { workflowId, decision: { decision: 'approve' } } })) as Structured<unknown>;
      expect(refused).toMatchObject({ isError: true, content: [{ text: 'this token may not decide runs: it needs the role approver' }] });
      const decided = (await alice.callTool({ name: 'decide', arguments: { workflowId, decision: { decision: 'approve', by: 'mallory' } } })) as Structured<{ by: string }>;
      expect(decided.structuredContent).toMatchObject({ decision: 'approve', by: 'alice' });
      return kit.keel.getResult(workflowId);
    });
    // Signed by keel mcp for the token's holder: verified, through its door.
    expect(ended).toMatchObject({ status: 'completed', escalations: [expect.objectContaining({ decision: 'approve', decidedBy: 'alice', door: 'keel mcp', verified: true })] });

    // A session opened by one token does not answer another's.
    const hijack = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets.vera}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': (alice.transport as StreamableHTTPClientTransport).sessionId! },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(hijack.status).toBe(403);
    await viewer.close();
    await alice.close();
  } finally {
    expect(await stopServed(served)).toBe(0);
  }
}, 90_000);

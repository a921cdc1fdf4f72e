// The worker's sizing comes from the environment: KEEL_MAX_CACHED_WORKFLOWS reaches the SDK worker.
// Its MCP servers come from the config file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { KeelClient } from '../../src/client';
import { loadConfig } from '../../src/config';
import { createConfiguredWorker } from '../../src/keel-plugin';
import { scriptedRequest, toolTask } from '../helpers/scenarios';
import { testAddress, uniqueName } from '../helpers/temporal';

test('KEEL_MAX_CACHED_WORKFLOWS sizes the workflow cache of `keel worker`; unset, the SDK sizes it from the heap', async () => {
  const taskQueue = uniqueName('keel-cache-size');
  const environment = { KEEL_CONFIG: '', KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: `.keel/test/${taskQueue}`, TEMPORAL_ADDRESS: testAddress() };
  const prebuilt = { workflowBundle: { codePath: process.env.KEEL_TEST_WORKFLOW_BUNDLE! } };
  const connection = await NativeConnection.connect({ address: testAddress() });
  const keel = await KeelClient.connect({ address: testAddress(), taskQueue });
  const quiet = () => undefined;
  try {
    const sized = await createConfiguredWorker(connection, loadConfig({ ...environment, KEEL_MAX_CACHED_WORKFLOWS: '7' }), quiet, prebuilt);
    expect(sized.worker.options.maxCachedWorkflows).toBe(7);
    // It still runs runs.
    const result = await sized.worker.runUntil(async () => {
      const { workflowId } = await keel.startRun(scriptedRequest({ tasks: [toolTask('fetch', 'crm', [])], tools: { crm: [{ result: { ok: true } }] } }));
      return keel.getResult(workflowId);
    });
    await sized.close();
    expect(result.status).toBe('completed');

    const unsized = await createConfiguredWorker(connection, loadConfig(environment), quiet, prebuilt);
    expect(unsized.worker.options.maxCachedWorkflows).toBeGreaterThan(7);
    await unsized.worker.runUntil(Promise.resolve());
    await unsized.close();
  } finally {
    await keel.close();
    await connection.close();
  }
});

test("keel.config.json's mcpServers: the worker lists each server's tools at start and runs with them; a required server that cannot start stops it, naming file and key", async () => {
  const taskQueue = uniqueName('keel-mcp-config');
  const home = mkdtempSync(path.join(os.tmpdir(), 'keel-mcp-config-'));
  const everything = path.resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
  const configFile = path.join(home, 'keel.config.json');
  // A secret the server gets through ${VAR}: it reaches the server, and never the run's history or the worker's lines.
  const secret = `mcp-secret-${taskQueue}`;
  writeFileSync(
    configFile,
    JSON.stringify({ mcpServers: { everything: { command: process.execPath, args: [everything, 'stdio'], env: { SERVICE_TOKEN: '${MCP_SECRET_FOR_TEST}' } }, spare: { command: process.execPath, args: ['-e', 'process.exit(1)'], optional: true } } }),
  );
  // MCP variables are read, when the worker connects, from the environment its settings came from: here not the process's.
  delete process.env.MCP_SECRET_FOR_TEST;
  const environment = { KEEL_CONFIG: configFile, KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: home, TEMPORAL_ADDRESS: testAddress(), MCP_SECRET_FOR_TEST: secret };
  expect(JSON.stringify(loadConfig(environment))).not.toContain(secret);
  const prebuilt = { workflowBundle: { codePath: process.env.KEEL_TEST_WORKFLOW_BUNDLE! } };
  const connection = await NativeConnection.connect({ address: testAddress() });
  const keel = await KeelClient.connect({ address: testAddress(), taskQueue });
  const lines: string[] = [];
  try {
    const started = await createConfiguredWorker(connection, loadConfig(environment), (line) => lines.push(line), prebuilt);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^warning: MCP server "spare" did not start or answer/), expect.stringMatching(/^tools: .*everything__echo/), expect.stringMatching(/^MCP everything: .*everything__get-sum/)]));
    const result = await started.worker.runUntil(async () => {
      const { workflowId } = await keel.startRun({ goal: 'echo', tools: ['everything__echo'], plan: { tasks: [{ id: 'say', kind: 'tool', tool: 'everything__echo', description: 'echo', input: { message: 'hi' } }] }, outputFrom: 'say', scenario: { model: {}, tools: {} } });
      return keel.getResult(workflowId);
    });
    await started.close();
    expect(result).toMatchObject({ status: 'completed', output: 'Echo: hi' });
    const history = JSON.stringify((await keel.temporal.workflow.getHandle(result.workflowId).fetchHistory()).events);
    expect(history + lines.join('\n')).not.toContain(secret);

    writeFileSync(configFile, JSON.stringify({ mcpServers: { spare: { command: process.execPath, args: ['-e', 'process.exit(1)'] } } }));
    await expect(createConfiguredWorker(connection, loadConfig(environment), () => undefined, prebuilt)).rejects.toThrow(/MCP server "spare" did not start or answer: .*mcpServers\.spare in the config file/);
    writeFileSync(configFile, JSON.stringify({ mcpServers: { 'bad name!': { command: 'x' }, ok: { url: 'not a url' } } }));
    const refusal = (() => {
      try {
        loadConfig(environment);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(refusal).toMatch(/^invalid config file .*keel\.config\.json:\n/);
    expect(refusal).toContain('  - mcpServers.bad name!: an MCP server name is 1-32 letters, digits, "_" or "-"');
    expect(refusal).toContain("  - mcpServers.ok.url: url must be the server's Streamable HTTP endpoint");
  } finally {
    await keel.close();
    await connection.close();
  }
}, 60_000);

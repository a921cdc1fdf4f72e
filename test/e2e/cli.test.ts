// The `keel` command as a user runs it, against the test run's dev server and a `keel worker` process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { RunResult } from '../../src/shared';
import { activityInputs } from '../helpers/history';
import { freePort, runKeel, startKeel, useWorkerProcess, waitFor } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

const runResultKeys = ['workflowId', 'runId', 'goal', 'status', 'output', 'plans', 'replans', 'tasks', 'escalations', 'planHistory', 'costUsd', 'budgetUsd', 'tokens', 'cache'];

describe('against a running worker', () => {
  const taskQueue = uniqueName('keel-cli');
  const home = mkdtempSync(path.join(os.tmpdir(), 'keel-cli-'));
  const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: home };
  useWorkerProcess(env);

  test('`keel run --scenario --wait --json` prints exactly a RunResult on stdout', async () => {
    const outcome = await runKeel(['run', '--scenario', 'examples/onboarding.json', '--wait', '--json'], env);
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as RunResult;
    expect(Object.keys(result).sort()).toEqual([...runResultKeys].sort());
    expect(result).toMatchObject({ status: 'completed', plans: 1, replans: 0, budgetUsd: 0.5, escalations: [], cache: { hits: 0, misses: 0 } });
    expect(result.tasks.map((task) => task.id)).toEqual(['verify', 'account', 'risk', 'welcome', 'send']);
    expect(result.tasks.every((task) => task.status === 'completed')).toBe(true);
    expect(result.costUsd).toBeGreaterThan(0);
    expect(result.costUsd).toBeLessThanOrEqual(result.budgetUsd);
    // The example's real send_email tool delivered the drafted welcome text to the outbox.
    const outbox = readFileSync(path.join(home, 'outbox', 'outbox.jsonl'), 'utf8');
    expect(outbox).toContain('your Keel account is ready');
    expect(outbox).toContain('"subject":"Welcome to Keel, ACME Corp"');
  });

  test('a run with retries exits 0 and `keel status` shows it; the same --id attaches', async () => {
    const id = uniqueName('flaky');
    const first = await runKeel(['run', '--scenario', 'examples/flaky-tools.json', '--id', id, '--wait'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Plan · 3 tasks');
    expect(first.stdout).toMatch(/✓ crm\s+tool crm_lookup\s+completed, 3 attempts/);
    expect(first.stdout).toContain('Result · completed');
    // Done means gone: a timer left behind by the follower kept it up a second after its last line.
    expect(first.exitAfterLastOutputMs).toBeLessThan(900);
    const second = await runKeel(['run', '--scenario', 'examples/flaky-tools.json', '--id', id, '--json'], env);
    expect(JSON.parse(second.stdout)).toMatchObject({ workflowId: id, attached: true });
    expect(second.stderr).toContain('attached to the existing run');
    const status = await runKeel(['status', id, '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ workflowId: id, phase: 'completed', result: { status: 'completed' } });
  });

  test('`keel run --agent` runs one agent loop; --max-steps sets its bound, and without --agent is refused', async () => {
    const outcome = await runKeel(['run', '--scenario', 'examples/support-agent.json', '--agent', '--max-steps', '4', '--wait', '--json'], env);
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as RunResult;
    expect(result).toMatchObject({ status: 'completed', plans: 1, tasks: [expect.objectContaining({ id: 'agent', kind: 'agent', steps: 3 })] });
    const refused = await runKeel(['run', 'Where is order 7?', '--max-steps', '4'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--max-steps goes with --agent');
    const followed = await runKeel(['run', '--scenario', 'examples/support-agent.json', '--wait'], env);
    expect(followed.stdout).toMatch(/agent\s+agent\s+completed, step 3 \(3 tool calls\)/);
  });

  test('`keel tools` lists every tool with its source: built in and each MCP server; a server that cannot start exits 2, naming it', async () => {
    const config = path.join(home, 'tools.config.json');
    const everything = path.resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
    writeFileSync(config, JSON.stringify({ mcpServers: { everything: { command: process.execPath, args: [everything, 'stdio'] } } }));
    const listed = await runKeel(['tools', '--json'], { ...env, KEEL_CONFIG: config });
    expect(listed.code).toBe(0);
    const tools = JSON.parse(listed.stdout) as Array<{ name: string; source: string; description: string; inputSchema?: { properties?: Record<string, unknown> } }>;
    expect(tools.find((tool) => tool.name === 'verify_document')).toMatchObject({ source: 'built-in', inputSchema: { properties: { customer: expect.anything() } } });
    expect(tools.find((tool) => tool.name === 'everything__get-sum')).toMatchObject({ source: 'mcp everything', description: expect.any(String), inputSchema: { properties: { a: expect.anything(), b: expect.anything() } } });
    const text = await runKeel(['tools'], { ...env, KEEL_CONFIG: config });
    expect(text.stdout).toMatch(/^everything__echo +mcp everything +\S/m);
    // A reader that went away (`keel tools | head -1`, here before the first line) ends it quietly: exit 0, no EPIPE trace.
    const child = spawn(process.execPath, [path.resolve('bin/keel.js'), 'tools'], { env: { ...process.env, ...env, KEEL_CONFIG: config }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.not.stringContaining('EPIPE') });
    writeFileSync(config, JSON.stringify({ mcpServers: { gone: { command: process.execPath, args: ['-e', 'process.exit(1)'] } } }));
    const refused = await runKeel(['tools'], { ...env, KEEL_CONFIG: config });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('MCP server "gone" did not start or answer');
  });

  test('a run that fails exits non-zero with the reason', async () => {
    const outcome = await runKeel(['run', 'Do something real', '--wait', '--json'], env);
    expect(outcome.code).toBe(1);
    const result = JSON.parse(outcome.stdout) as RunResult;
    expect(result.status).toBe('failed');
    expect(result.reason).toContain('only scenario runs can execute');
  });

  test('`keel run --plan --output-from` runs your own pipeline on the real tools with no model: the answer is the account task\'s output', async () => {
    const input = { ...(JSON.parse(readFileSync('examples/onboarding.json', 'utf8')) as { request: { input: object } }).request.input, customer: 'Pipeline Co' };
    const outcome = await runKeel(['run', 'Onboard Pipeline Co', '--plan', 'examples/plans/onboarding.json', '--output-from', 'account', '--input', JSON.stringify(input), '--wait', '--json'], env);
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as RunResult;
    expect(result).toMatchObject({ status: 'completed', plans: 1, costUsd: 0, tokens: { input: 0, output: 0 } });
    expect(result.planHistory).toEqual([expect.objectContaining({ reason: 'supplied by the request', accepted: true })]);
    const account = JSON.parse(result.output!) as { accountId: string; customer: string };
    expect(account).toMatchObject({ customer: 'Pipeline Co', accountId: expect.stringMatching(/^acct_/) });
    // --tools defaulted to the plan's tools, and the real send_email delivered, with the account id interpolated.
    expect(readFileSync(path.join(home, 'outbox', 'outbox.jsonl'), 'utf8')).toContain(`Your account ${account.accountId} is ready.`);

    const wrong = await runKeel(['run', 'Onboard', '--plan', 'examples/plans/onboarding.json', '--output-from', 'acount'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('outputFrom: the plan has no task "acount" (its tasks: verify, account, send)');
    const notJson = await runKeel(['run', 'Onboard', '--plan', 'README.md'], env);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('plan README.md is not valid JSON');
  });

  test('bad input is refused with the reason and exit code 2', async () => {
    const invalid = await runKeel(['run', '--scenario', 'examples/onboarding.json', '--budget', '-3'], env);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('budgetUsd: budgetUsd must be more than 0');
    const missing = await runKeel(['run', '--scenario', 'examples/nope.json'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read scenario examples/nope.json');
    const unknown = await runKeel(['status', uniqueName('ghost')], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no run with id/);
  });
});

test('`keel run` without a reachable server says so in one sentence and how to start one', async () => {
  const port = await freePort();
  const outcome = await runKeel(['run', '--scenario', 'examples/onboarding.json'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
  expect(outcome.code).toBe(3);
  expect(outcome.stderr.trim()).toBe(`keel: cannot reach Temporal at 127.0.0.1:${port} — start one with \`keel dev\`, or set TEMPORAL_ADDRESS`);
  expect(outcome.stdout).toBe('');
});

test('`keel dev` against a remote address says where that address came from: TEMPORAL_ADDRESS, or a profile of the config file', async () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'keel-dev-remote-'));
  const fromVariable = await runKeel(['dev'], { TEMPORAL_ADDRESS: 'temporal.example.com:7233', KEEL_HOME: home, KEEL_CONFIG: '' });
  expect(fromVariable.code).toBe(2);
  expect(fromVariable.stderr.trim()).toBe('keel: keel dev starts a local server, but TEMPORAL_ADDRESS is temporal.example.com:7233: unset it, or run `keel worker` against that server');
  const file = path.join(home, 'temporal.toml');
  writeFileSync(file, '[profile.prod]\naddress = "temporal.example.com:7233"\nnamespace = "default"\n');
  const fromProfile = await runKeel(['dev'], { TEMPORAL_ADDRESS: '', TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', KEEL_HOME: home, KEEL_CONFIG: '' });
  expect(fromProfile.code).toBe(2);
  expect(fromProfile.stderr).toContain('keel dev starts a local server, but the connection profile "prod" (TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml) points at temporal.example.com:7233: run it with TEMPORAL_ADDRESS=localhost:7233 or a local TEMPORAL_PROFILE');
  expect(fromProfile.stdout).toBe('');
});

test('`keel dev --run` starts a server and a worker, runs the example with a plan tree and progress, and Ctrl-C stops it all', async () => {
  const [port, uiPort] = [await freePort(), await freePort()];
  const home = mkdtempSync(path.join(os.tmpdir(), 'keel-dev-'));
  const dev = startKeel(['dev', '--run', 'examples/onboarding.json'], {
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    KEEL_UI_PORT: String(uiPort),
    KEEL_HOME: home,
    TEMPORAL_CLI_PATH: process.env.KEEL_TEST_TEMPORAL_CLI,
  });
  await waitFor(() => dev.output().includes('Ctrl-C stops everything'), 'keel dev to finish the example', 90_000);
  const output = dev.output();
  expect(output).toContain(`Web UI              http://localhost:${uiPort}`);
  expect(output).toContain('└─ verify  tool verify_document');
  expect(output).toMatch(/✓ send\s+tool send_email\s+completed/);
  expect(output).toContain('Result · completed');
  expect(output).toMatch(/See it in the Web UI: http:\/\/localhost:\d+\/namespaces\/default\/workflows\/keel-/);
  // The UI is really up while dev runs.
  const settings = await fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`);
  expect(settings.ok).toBe(true);

  dev.child.kill('SIGINT');
  expect(await dev.exited).toBe(0);
  await expect(fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`)).rejects.toThrow();
  const database = readFileSync(path.join(home, 'temporal.db'));
  expect(database.length).toBeGreaterThan(0);
  // The server ran with Keel's pragmas: a database in write-ahead-log mode says so in its header
  // (file format write and read versions, bytes 18 and 19: 2 for WAL, 1 for a rollback journal).
  expect([database[18], database[19]]).toEqual([2, 2]);
}, 120_000);

describe('deciding from the CLI', () => {
  const taskQueue = uniqueName('keel-cli-decide');
  const home = mkdtempSync(path.join(os.tmpdir(), 'keel-cli-decide-'));
  const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: home };
  useWorkerProcess(env);

  async function waitUntilPending(id: string): Promise<string> {
    let listed = '';
    for (let tries = 0; tries < 60 && !listed.includes(id); tries++) {
      listed = (await runKeel(['pending'], env)).stdout;
      if (!listed.includes(id)) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return listed;
  }

  test('`keel pending` lists a waiting run; a refused decision exits 2; `keel approve` lets it finish', async () => {
    const id = uniqueName('refund');
    const started = await runKeel(['run', '--scenario', 'examples/escalation-approval.json', '--id', id], env);
    expect(started.code).toBe(0);
    const listed = await waitUntilPending(id);
    expect(listed).toContain(`${id}  human_review · approval — task approval needs a human review`);
    expect(listed).toContain('choices: approve, reject, replan');

    const refused = await runKeel(['skip', id], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`run ${id} refused the decision: "skip" is not possible here`);

    const approved = await runKeel(['approve', id, '--note', 'photos confirm it', '--by', 'ops-oncall'], env);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain(`approve recorded for ${id}`);
    const status = await runKeel(['status', id, '--json'], env);
    const result = JSON.parse((await runKeel(['run', '--scenario', 'examples/escalation-approval.json', '--id', id, '--wait', '--json'], env)).stdout);
    expect(status.code).toBe(0);
    expect(result).toMatchObject({ status: 'completed', escalations: [{ decision: 'approve', decidedBy: 'ops-oncall', note: 'photos confirm it' }] });
  });

  test('`keel approve --input` runs a tool with the edited input; input that is not a JSON object is refused before anything is sent', async () => {
    const id = uniqueName('approve-input');
    const scenario = path.join(home, 'approve-input.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'approve-input',
        request: { goal: 'Where is order 7?', tools: ['lookup_order'], agent: { maxSteps: 4 }, approvals: { tools: ['lookup_order'] } },
        model: { 'step:agent': [{ toolCalls: [{ tool: 'lookup_order', input: { orderId: 71 } }] }, { text: 'Order 7 arrives Thursday.' }] },
        tools: { lookup_order: [{ result: { orderId: 7, eta: 'Thursday' } }] },
      }),
    );
    expect((await runKeel(['run', '--scenario', scenario, '--id', id], env)).code).toBe(0);
    expect(await waitUntilPending(id)).toContain(`${id}  tool_approval · agent`);
    for (const [input, said] of [
      ['{"orderId": 7', '--input is not valid JSON'],
      ['[7]', '--input must be a JSON object'],
    ]) {
      const refused = await runKeel(['approve', id, '--input', input!], env);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(said);
    }
    const approved = await runKeel(['approve', id, '--input', '{"orderId": 7}', '--by', 'ops-oncall'], env);
    expect(approved.code).toBe(0);
    const result = JSON.parse((await runKeel(['run', '--scenario', scenario, '--id', id, '--wait', '--json'], env)).stdout) as RunResult;
    expect(result).toMatchObject({ status: 'completed', output: 'Order 7 arrives Thursday.', escalations: [{ kind: 'tool_approval', decision: 'approve', decidedBy: 'ops-oncall' }] });
    const client = new Client({ connection: await Connection.connect({ address: testAddress() }) });
    try {
      expect(await activityInputs(client, id, 'callTool')).toEqual([expect.objectContaining({ tool: 'lookup_order', input: { orderId: 7 } })]);
    } finally {
      await client.connection.close();
    }
  });

  test('`keel reject` needs a reason and ends the run rejected', async () => {
    const id = uniqueName('refund');
    await runKeel(['run', '--scenario', 'examples/escalation-approval.json', '--id', id], env);
    await waitUntilPending(id);
    const noReason = await runKeel(['reject', id], env);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("required option '--reason <text>'");
    expect((await runKeel(['reject', id, '--reason', 'not covered by policy'], env)).code).toBe(0);
    const rejectedBy = `${os.userInfo().username}@${os.hostname()}`;
    const waited = await runKeel(['run', '--scenario', 'examples/escalation-approval.json', '--id', id, '--wait', '--json'], env);
    expect(waited.code).toBe(1);
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'rejected', reason: `${rejectedBy} rejected the run at task approval: not covered by policy` });
  });
});

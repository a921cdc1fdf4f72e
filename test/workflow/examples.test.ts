// Every example scenario ends as it says it will (its "expect"), answering escalations from the file;
// and a worker built the way users build theirs (KeelPlugin in their own Worker.create) ends each the same.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { runScenarioToEnd } from '../../src/testing/scenario-runner';
import { parseScenario, type RunResult } from '../../src/shared';
import { KeelClient } from '../../src/client';
import { loadConfig } from '../../src/config';
import { KeelPlugin } from '../../src/keel-plugin';
import { createTestKit, testAddress, uniqueName, type TestKit } from '../helpers/temporal';

const examples = path.resolve(__dirname, '../../examples');
const files = readdirSync(examples).filter((file) => file.endsWith('.json'));

let kit: TestKit;
let plugged: { connection: NativeConnection; keel: KeelClient; taskQueue: string };
beforeAll(async () => {
  kit = await createTestKit();
  const taskQueue = uniqueName('keel-plugin');
  plugged = { connection: await NativeConnection.connect({ address: testAddress() }), keel: await KeelClient.connect({ address: testAddress(), taskQueue }), taskQueue };
});
afterAll(async () => {
  await kit.close();
  await plugged.keel.close();
  await plugged.connection.close();
});

/** What two runs of one scenario must agree on. */
const outcome = (result: RunResult) => ({
  status: result.status,
  reason: result.reason,
  // The built-in create_account derives the account id from the run's idempotency key, which differs.
  output: result.output?.replace(/acct_[0-9a-f]+/g, 'acct_…'),
  decisions: result.escalations.map((escalation) => escalation.decision),
  tasks: result.tasks.map((task) => [task.id, task.status, task.attempts]),
});

test.each(files)('%s ends as its scenario expects, with the test worker and with KeelPlugin in a Worker.create', async (file) => {
  const { request, expect: expected } = parseScenario(readFileSync(path.join(examples, file), 'utf8'), file);
  expect(expected).toBeDefined();
  // runScenarioToEnd throws when the run escalates more, or fewer, times than the scenario answers.
  const result = await kit.withWorker(() =>
    runScenarioToEnd(kit.keel, { ...request, idempotencyKey: uniqueName(file.replace('.json', '')) }, expected!.decisions),
  );
  expect({ file, status: result.status, reason: result.reason }).toEqual({ file, status: expected!.status, reason: result.reason });
  expect(result.escalations.map((escalation) => escalation.decision)).toEqual(expected!.decisions.map((decision) => decision.decision));

  const plugin = await KeelPlugin.create({ config: loadConfig({ KEEL_CONFIG: '', KEEL_HOME: `.keel/test/${plugged.taskQueue}` }), log: () => undefined });
  const worker = await Worker.create({ connection: plugged.connection, taskQueue: plugged.taskQueue, workflowBundle: { codePath: process.env.KEEL_TEST_WORKFLOW_BUNDLE! }, plugins: [plugin] });
  const viaPlugin = await worker.runUntil(() => runScenarioToEnd(plugged.keel, { ...request, idempotencyKey: uniqueName(file.replace('.json', '')) }, expected!.decisions));
  expect(outcome(viaPlugin)).toEqual(outcome(result));
});

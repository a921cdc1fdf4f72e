// The worker's sizing comes from the environment: KEEL_MAX_CACHED_WORKFLOWS reaches the SDK worker.
import { NativeConnection } from '@temporalio/worker';
import { KeelClient } from '../../src/client';
import { loadConfig } from '../../src/config';
import { createConfiguredWorker } from '../../src/worker';
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

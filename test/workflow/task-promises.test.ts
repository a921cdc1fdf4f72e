// What a task costs the workflow in promises. The SDK records a stack for every promise a workflow
// creates (for the __stack_trace query), which made promises the largest part of Keel's workflow
// CPU (bench/results/). Runs under patch keel-lean-run chain a task's first attempt instead of
// awaiting it through five async layers: 4 promises a tool task instead of about 16.
import v8 from 'node:v8';
import { Worker } from '@temporalio/worker';
import type { AgentRequestInput } from '../../src/shared';
import { toolTask } from '../helpers/scenarios';
import { createTestKit, type TestKit } from '../helpers/temporal';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit();
});
afterAll(async () => kit.close());

/** A pipeline of `length` tool tasks, each after the one before, whose answer is the last one's. */
function chain(length: number): AgentRequestInput {
  const ids = Array.from({ length }, (_unused, index) => `step${index + 1}`);
  return {
    goal: `a chain of ${length}`,
    tools: ['fetch'],
    plan: { tasks: ids.map((id, index) => toolTask(id, 'fetch', index === 0 ? [] : [ids[index - 1]!])) },
    outputFrom: ids.at(-1)!,
    scenario: { model: {}, tools: { fetch: [{ result: { ok: true } }] } },
  };
}

/** The promises a run's workflow code creates, counted by replaying its history in this thread. */
async function promisesOf(workflowId: string): Promise<number> {
  const history = await kit.client.workflow.getHandle(workflowId).fetchHistory();
  let promises = 0;
  // Replay workers run workflow code in this thread. The SDK's own test for "a workflow's promise": its V8 context holds the activator.
  const stop = v8.promiseHooks.onInit((promise: Promise<unknown>) => {
    if ((promise.constructor.constructor as FunctionConstructor)('return globalThis.__TEMPORAL_ACTIVATOR__')()) promises += 1;
  });
  try {
    await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.KEEL_TEST_WORKFLOW_BUNDLE! }, replayName: `promises-${workflowId}` }, history, workflowId);
  } finally {
    stop();
  }
  return promises;
}

test('a tool task costs the workflow at most 5 promises, with no awaits between its dependencies and its call', async () => {
  const short = await kit.run(chain(2));
  const long = await kit.run(chain(8));
  expect([short.status, long.status]).toEqual(['completed', 'completed']);
  expect(long.tasks.map((task) => task.status)).toEqual(Array(8).fill('completed'));
  const perTask = ((await promisesOf(long.workflowId)) - (await promisesOf(short.workflowId))) / 6;
  // 2 the SDK makes to schedule the activity, 1 that takes its outcome, 1 that tells the scheduler.
  expect(perTask).toBeGreaterThan(0);
  expect(perTask).toBeLessThanOrEqual(5);
}, 60_000);

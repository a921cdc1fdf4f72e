// A request that brings its own plan (request.plan) and takes its answer from a task (outputFrom):
// no planner or synthesis call, the same checks a model's plan gets, replans still go to the planner.
import { temporal } from '@temporalio/proto';
import { InvalidRequestError, RunNotFoundError } from '../../src/client';
import type { AgentRequestInput, TaskDraft } from '../../src/shared';
import { activityTimeline, keelStatusHistory } from '../helpers/history';
import { toolTask } from '../helpers/scenarios';
import { createTestKit, uniqueName, type TestKit } from '../helpers/temporal';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit();
});
afterAll(async () => kit.close());

const EventType = temporal.api.enums.v1.EventType;

/** A pipeline: fetch → score → report, with scripted tools and no scripted plan or synthesis. */
function pipeline(extra: Partial<AgentRequestInput> = {}, tasks?: TaskDraft[], model: Record<string, unknown[]> = {}): AgentRequestInput {
  return {
    goal: 'score the lead',
    tools: ['fetch', 'score', 'report'],
    escalation: { timeoutMs: 1_500, defaultAction: 'reject' },
    plan: { tasks: tasks ?? [toolTask('fetch', 'fetch'), toolTask('score', 'score', ['fetch']), toolTask('report', 'report', ['score'])] },
    outputFrom: 'report',
    scenario: {
      model: model as never,
      tools: { fetch: [{ result: { lead: 'ACME' } }], score: [{ result: { score: 0.9 } }], report: [{ result: { lead: 'ACME', verdict: 'hot' } }] },
    },
    ...extra,
  };
}

test('a supplied plan runs with no planner call, and outputFrom makes the answer without a synthesis call', async () => {
  const result = await kit.run(pipeline());
  expect(result).toMatchObject({ status: 'completed', plans: 1, replans: 0, output: '{"lead":"ACME","verdict":"hot"}' });
  expect(result.tasks.map((task) => [task.id, task.status])).toEqual([['fetch', 'completed'], ['score', 'completed'], ['report', 'completed']]);
  // Only the three tasks reach the task queue; the worker's facts come from one local activity.
  const timeline = await activityTimeline(kit.client, result.workflowId);
  expect(timeline.types).toEqual(['runTask', 'runTask', 'runTask']);
  const history = await kit.client.workflow.getHandle(result.workflowId).fetchHistory();
  // Two markers: the patch under which tasks run (keel-lean-run, asked at the start), and the local activity.
  expect(history.events!.filter((event) => event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED).map((event) => event.markerRecordedEventAttributes!.markerName)).toEqual(['core_patch', 'core_local_activity']);
  // KeelStatus: `running` from the start (there is no planning phase), then one upsert, at the end.
  expect(await keelStatusHistory(kit.client, result.workflowId)).toEqual({ atStart: 'running', upserts: ['completed'] });
  expect(result.planHistory).toEqual([expect.objectContaining({ number: 1, reason: 'supplied by the request', accepted: true })]);
});

test('a supplied plan started without the client, so without KeelStatus, still publishes running', async () => {
  const workflowId = uniqueName('supplied-raw');
  const result = await kit.withWorker(() => kit.client.workflow.execute('agentRun', { workflowId, taskQueue: kit.taskQueue, args: [pipeline()] }));
  expect(result).toMatchObject({ status: 'completed' });
  expect(await keelStatusHistory(kit.client, workflowId)).toEqual({ atStart: undefined, upserts: ['running', 'completed'] });
});

test('without outputFrom, a supplied plan still ends with the synthesis call', async () => {
  const request = pipeline({ outputFrom: undefined });
  request.scenario!.model = { synthesize: [{ text: 'ACME is hot' }] };
  const result = await kit.run(request);
  expect(result).toMatchObject({ status: 'completed', output: 'ACME is hot' });
  expect((await activityTimeline(kit.client, result.workflowId)).types).toEqual(['runTask', 'runTask', 'runTask', 'synthesize']);
});

test('a supplied plan gets the checks a model plan gets: a cycle and an unknown tool are rejected with reasons, and nothing runs', async () => {
  const result = await kit.run(
    pipeline({ tools: ['fetch', 'nowhere'], outputFrom: 'a' }, [toolTask('a', 'nowhere', ['b']), toolTask('b', 'fetch', ['a'])]),
  );
  expect(result.status).toBe('rejected');
  expect(result.reason).toMatch(/^plan rejected: /);
  expect(result.reason).toContain('unknown tool "nowhere"');
  expect(result.reason).toContain('dependency cycle: a → b → a');
  expect(result.tasks).toEqual([]);
  expect((await activityTimeline(kit.client, result.workflowId)).types).toEqual([]);
});

test('a semantic failure in a supplied plan is replanned by the planner model, and outputFrom names a task of the replan', async () => {
  const request = pipeline({}, undefined, {
    plan: [{ tasks: [toolTask('score2', 'score', ['fetch'], { input: { model: 'v2' } }), toolTask('report', 'report', ['score2'])] }],
  });
  request.scenario!.tools = { ...request.scenario!.tools, score: [{ fail: 'semantic', message: 'lead has no industry' }, { result: { score: 0.7 } }] };
  const result = await kit.run(request);
  expect(result).toMatchObject({ status: 'completed', plans: 2, replans: 1, output: '{"lead":"ACME","verdict":"hot"}' });
  expect((await activityTimeline(kit.client, result.workflowId)).types.filter((type) => type === 'plan')).toHaveLength(1);
});

test('a replan without the task outputFrom names is rejected with that reason, and the planner asked again', async () => {
  const request = pipeline({}, undefined, {
    plan: [
      { tasks: [toolTask('score2', 'score', ['fetch'], { input: { model: 'v2' } })] },
      { tasks: [toolTask('score2', 'score', ['fetch'], { input: { model: 'v2' } }), toolTask('report', 'report', ['score2'])] },
    ],
  });
  request.scenario!.tools = { ...request.scenario!.tools, score: [{ fail: 'semantic', message: 'lead has no industry' }, { result: { score: 0.7 } }] };
  const result = await kit.run(request);
  expect(result).toMatchObject({ status: 'completed', replans: 2, output: '{"lead":"ACME","verdict":"hot"}' });
  expect(result.planHistory.map((plan) => [plan.accepted, plan.problems])).toEqual([
    [true, undefined],
    [false, [`the plan has no task "report", whose output is the run's answer (outputFrom): add it`]],
    [true, undefined],
  ]);
});

test('when the task named by outputFrom is skipped, the run fails and says which task and why', async () => {
  const tasks = [toolTask('fetch', 'fetch'), toolTask('report', 'report', ['fetch'], { critical: false })];
  const request = pipeline({}, tasks);
  request.scenario!.tools = { fetch: [{ result: {} }], report: [{ fail: 'permanent', message: 'report service is gone' }] };
  const result = await kit.run(request);
  expect(result.status).toBe('failed');
  expect(result.reason).toBe('outputFrom names task report, which did not complete: skipped (non-critical): report service is gone');
});

test('the client refuses, before anything starts, an outputFrom the plan does not have and a task key it does not know', async () => {
  const idempotencyKey = uniqueName('supplied-invalid');
  const plan = { tasks: [{ id: 'fetch', kind: 'tool' as const, tool: 'fetch', description: 'fetch', dependson: ['x'] }] };
  const attempt = kit.keel.startRun({ ...pipeline({ idempotencyKey, outputFrom: 'answer' }), plan } as never);
  const error = (await attempt.catch((caught: unknown) => caught)) as InvalidRequestError;
  expect(error).toBeInstanceOf(InvalidRequestError);
  expect(error.problems).toEqual(['plan.tasks.0: Unrecognized key: "dependson"']);
  const wrongOutput = (await kit.keel.startRun(pipeline({ idempotencyKey, outputFrom: 'answer' })).catch((caught: unknown) => caught)) as InvalidRequestError;
  expect(wrongOutput).toBeInstanceOf(InvalidRequestError);
  expect(wrongOutput.problems).toEqual([
    'outputFrom: the plan has no task "answer" (its tasks: fetch, score, report): name the task whose output is the run\'s answer',
  ]);
  await expect(kit.keel.getResult(idempotencyKey)).rejects.toBeInstanceOf(RunNotFoundError);
});

// A plan that names its answer task (plan.outputFrom): the run ends with that task's output and
// makes no synthesis call. The planner model may name one; so may a plan the request brings.
import { InvalidRequestError, RunNotFoundError } from '../../src/client';
import type { AgentRequestInput } from '../../src/shared';
import { activityTimeline } from '../helpers/history';
import { llmTask, scriptedRequest, toolTask } from '../helpers/scenarios';
import { createTestKit, uniqueName, type TestKit } from '../helpers/temporal';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit();
});
afterAll(async () => kit.close());

const tasks = [toolTask('fetch', 'fetch'), llmTask('label', ['fetch'], { tier: 'small' })];
const tools = { fetch: [{ result: { ticket: 'printer on fire' } }] };

test("the planner names the answer task: the run ends with its output and makes no synthesis call", async () => {
  const result = await kit.run(scriptedRequest({ tasks, tools, plans: [{ tasks, outputFrom: 'label' }], model: { 'task:label': [{ text: 'urgent' }] } }));
  expect(result).toMatchObject({ status: 'completed', output: 'urgent', plans: 1 });
  expect(result.planHistory).toEqual([expect.objectContaining({ accepted: true, outputFrom: 'label' })]);
  expect((await activityTimeline(kit.client, result.workflowId)).types).toEqual(['plan', 'runTask', 'runTask']);
});

test('a plan whose outputFrom names no task of it is rejected with that reason, before any task runs', async () => {
  const result = await kit.run(scriptedRequest({ tasks, tools, plans: [{ tasks, outputFrom: 'summary' }] }));
  expect(result.status).toBe('rejected');
  expect(result.reason).toBe(
    'plan rejected: outputFrom names task "summary", which the plan does not have: name one of its tasks, or leave outputFrom out to have the answer written from all results',
  );
  expect((await activityTimeline(kit.client, result.workflowId)).types).toEqual(['plan']);
});

test('the plan that replaces it decides: a replan without outputFrom ends with a synthesis call', async () => {
  const replan = [toolTask('fetch2', 'fetch', [], { input: { mirror: true } }), llmTask('label', ['fetch2'], { tier: 'small' })];
  const request = scriptedRequest({
    tasks,
    plans: [{ tasks, outputFrom: 'label' }, { tasks: replan }],
    tools: { fetch: [{ fail: 'semantic', message: 'ticket not found' }, { result: { ticket: 'printer on fire' } }] },
    model: { 'task:label': [{ text: 'urgent' }], synthesize: [{ text: 'The ticket is urgent.' }] },
  });
  const result = await kit.run(request);
  expect(result).toMatchObject({ status: 'completed', replans: 1, output: 'The ticket is urgent.' });
  expect(result.planHistory.map((plan) => plan.outputFrom)).toEqual(['label', undefined]);
  expect((await activityTimeline(kit.client, result.workflowId)).types).toEqual(['plan', 'runTask', 'plan', 'runTask', 'runTask', 'synthesize']);
});

test("a request's planner must not name another answer task than the request's outputFrom", async () => {
  const request: AgentRequestInput = { ...scriptedRequest({ tasks, tools, plans: [{ tasks, outputFrom: 'fetch' }] }), outputFrom: 'label' };
  const result = await kit.run(request);
  expect(result.status).toBe('rejected');
  expect(result.reason).toBe('plan rejected: outputFrom names task "fetch", but the run\'s answer is task "label" (the request\'s outputFrom): leave outputFrom out');
});

test('a supplied plan may name its answer task itself; the client refuses one the plan lacks or that contradicts the request', async () => {
  const plan = { tasks: [toolTask('fetch', 'fetch'), toolTask('report', 'report', ['fetch'])], outputFrom: 'report' };
  const request: AgentRequestInput = {
    goal: 'report the ticket',
    tools: ['fetch', 'report'],
    plan,
    scenario: { model: {}, tools: { ...tools, report: [{ result: { severity: 'high' } }] } },
  };
  const result = await kit.run(request);
  expect(result).toMatchObject({ status: 'completed', output: '{"severity":"high"}' });
  expect((await activityTimeline(kit.client, result.workflowId)).types).toEqual(['runTask', 'runTask']);

  const idempotencyKey = uniqueName('answer-task-invalid');
  const lacking = await kit.keel.startRun({ ...request, idempotencyKey, plan: { ...plan, outputFrom: 'summary' } }).catch((caught: unknown) => caught);
  expect(lacking).toBeInstanceOf(InvalidRequestError);
  expect((lacking as InvalidRequestError).problems).toEqual([
    'plan.outputFrom: the plan has no task "summary" (its tasks: fetch, report): name the task whose output is the run\'s answer',
  ]);
  const contradicting = await kit.keel.startRun({ ...request, idempotencyKey, outputFrom: 'fetch' }).catch((caught: unknown) => caught);
  expect((contradicting as InvalidRequestError).problems).toEqual(['outputFrom: the request says "fetch" and its plan says "report": give one of them']);
  await expect(kit.keel.getResult(idempotencyKey)).rejects.toBeInstanceOf(RunNotFoundError);
});

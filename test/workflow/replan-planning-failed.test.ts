// A run that must replan but whose planner cannot answer keeps its work and asks a human: ask the
// planner again (retry, or replan with guidance), or end the run. Runs recorded before this ended
// `failed` there, and still replay (test/histories/replan-planner-down.json).
import { temporal } from '@temporalio/proto';
import type { AgentRequestInput, ScriptedModelEntry } from '../../src/shared';
import { waitForPending } from '../helpers/escalation';
import { toolTask } from '../helpers/scenarios';
import { createTestKit, type TestKit } from '../helpers/temporal';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit();
});
afterAll(async () => kit.close());

const EventType = temporal.api.enums.v1.EventType;

/** lookup → score, brought by the request; score fails semantically, so the run must replan. */
function pipeline(plans: ScriptedModelEntry[]): AgentRequestInput {
  return {
    goal: 'score the lead',
    tools: ['lookup', 'score'],
    escalation: { timeoutMs: 60_000, defaultAction: 'reject' },
    plan: { tasks: [toolTask('lookup', 'lookup'), toolTask('score', 'score', ['lookup'])] },
    outputFrom: 'score',
    scenario: {
      model: plans.length > 0 ? { plan: plans } : {},
      tools: { lookup: [{ result: { lead: 'ACME' } }], score: [{ fail: 'semantic', message: 'the lead has no industry' }, { result: { score: 0.8 } }] },
    },
  };
}
const replan = { tasks: [toolTask('score', 'score', ['lookup'], { input: { industry: 'unknown' } })], outputFrom: 'score' };

test('with no planner to ask, the run waits for a human instead of failing, and its default ends it failed with both reasons', async () => {
  const request = { ...pipeline([]), escalation: { timeoutMs: 1_500, defaultAction: 'reject' as const } };
  const result = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(request);
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending).toMatchObject({ kind: 'planning_failed', defaultAction: 'reject' });
    expect(pending.reason).toBe(
      'the run must replan (task score failed: semantic: the lead has no industry), but planning failed: permanent: the scenario has no model entries for "plan": add "plan": [{ "text": "..." }] to its "model"',
    );
    expect(pending.choices.map((choice) => choice.decision)).toEqual(['retry', 'replan', 'reject']);
    // The Web UI's details offer exactly these, from the terminal too.
    const { currentDetails } = (await kit.client.workflow.getHandle(workflowId).query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(currentDetails).toContain(`From a terminal: \`keel retry ${workflowId}\`, \`keel replan ${workflowId} --guidance "..."\`, \`keel reject ${workflowId} --reason "..."\`.`);
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('failed');
  expect(result.reason).toMatch(/^planning failed: permanent: the scenario has no model entries for "plan".*; timeout ended the run: no decision within 1.5 s: took the default action$/);
  expect(result.escalations).toEqual([expect.objectContaining({ kind: 'planning_failed', decision: 'reject', decidedBy: 'timeout', timedOut: true })]);
  expect(result.tasks.filter((task) => task.status === 'completed').map((task) => task.id)).toEqual(['lookup']);
});

test('retry asks the planner again, and the run goes on from the work it kept', async () => {
  const result = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(pipeline([{ fail: 'permanent', message: 'the planner is down' }, replan]));
    expect((await waitForPending(kit.keel, workflowId)).reason).toContain('but planning failed: permanent: the planner is down');
    await kit.keel.decide(workflowId, { decision: 'retry', by: 'ops' });
    return kit.keel.getResult(workflowId);
  });
  expect(result).toMatchObject({ status: 'completed', output: '{"score":0.8}', replans: 1 });
  expect(result.escalations).toEqual([expect.objectContaining({ kind: 'planning_failed', decision: 'retry', decidedBy: 'ops' })]);
  // lookup ran once: the replan depended on it rather than running it again.
  expect(result.tasks.filter((task) => task.id === 'lookup')).toEqual([expect.objectContaining({ status: 'completed', attempts: 1 })]);
});

test("replan asks again with the human's guidance in the planner's input", async () => {
  const workflowId = await kit.withWorker(async () => {
    const { workflowId: id } = await kit.keel.startRun(pipeline([{ fail: 'permanent', message: 'the planner is down' }, replan]));
    await waitForPending(kit.keel, id);
    await kit.keel.decide(id, { decision: 'replan', guidance: 'score without the industry', by: 'dana' });
    expect(await kit.keel.getResult(id)).toMatchObject({ status: 'completed' });
    return id;
  });
  const history = await kit.client.workflow.getHandle(workflowId).fetchHistory();
  const planInputs = history
    .events!.filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && event.activityTaskScheduledEventAttributes!.activityType!.name === 'plan')
    .map((event) => JSON.parse(new TextDecoder().decode(event.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!)) as { replan?: { guidance?: string } });
  expect(planInputs.map((input) => input.replan?.guidance)).toEqual([undefined, 'score without the industry']);
});

// agentRun end to end on a real dev server: retries, re-asking the planner, rejection, failure.
import { InvalidRequestError, RunNotFoundError } from '../../src/client';
import { keelStatusKey } from '../../src/shared';
import { activityInputs, activityTimeline, keelStatusHistory } from '../helpers/history';
import { llmTask, scriptedRequest, toolTask } from '../helpers/scenarios';
import { createTestKit, unbrokenAndContinued, uniqueName, type TestKit } from '../helpers/temporal';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit();
});
afterAll(async () => kit.close());

const run = (request: Parameters<TestKit['run']>[0]) => kit.run(request);

test('a transient tool failure is retried by Temporal and the run completes with attempts = 2', async () => {
  const result = await run(
    scriptedRequest({
      tasks: [toolTask('t1', 'flaky')],
      tools: { flaky: [{ fail: 'transient', message: 'connection reset' }, { result: { ok: true } }] },
    }),
  );
  expect(result.status).toBe('completed');
  expect(result.tasks[0]).toMatchObject({ id: 't1', status: 'completed', attempts: 2 });
  expect(result.output).toBe('final answer');
});

test('a model-planned run keeps the client\'s KeelStatus=planning and publishes only what changes: running, synthesizing, completed', async () => {
  const result = await run(scriptedRequest({ tasks: [toolTask('t1', 'lookup')], tools: { lookup: [{ result: { ok: true } }] } }));
  expect(result.status).toBe('completed');
  expect(await keelStatusHistory(kit.client, result.workflowId)).toEqual({ atStart: 'planning', upserts: ['running', 'synthesizing', 'completed'] });
});

test('a malformed plan is re-asked with the error fed back, and the second plan runs', async () => {
  const result = await run(
    scriptedRequest({
      tasks: [],
      plans: [{ fail: 'malformed' }, { tasks: [{ id: 'only', kind: 'llm', description: 'answer' }] }],
      model: { 'task:only': [{ text: '42' }] },
    }),
  );
  expect(result.status).toBe('completed');
  expect(result.plans).toBe(1);
  const timeline = await activityTimeline(kit.client, result.workflowId);
  expect(timeline.types.filter((type) => type === 'plan')).toHaveLength(2);
  // The refused answer still cost tokens, and the ledger counts them.
  expect(result.tokens.output).toBeGreaterThan(0);
});

test('a plan that does not fit the schema is malformed too, and three bad answers fail the run', async () => {
  const result = await run(scriptedRequest({ tasks: [], plans: [{ tasks: [{ id: 'x', kind: 'dance' }] }] }));
  expect(result.status).toBe('failed');
  expect(result.reason).toMatch(/malformed output 3 times/);
  expect(result.reason).toMatch(/tasks\.0\.kind/);
});

test('a plan with a cycle and an unknown tool is rejected with reasons naming the culprits', async () => {
  const result = await run(
    scriptedRequest({
      tasks: [toolTask('a', 'nowhere', ['b']), llmTask('b', ['a'])],
      allowedTools: ['nowhere'],
    }),
  );
  expect(result.status).toBe('rejected');
  expect(result.reason).toContain('dependency cycle: a → b → a');
  expect(result.reason).toContain('unknown tool "nowhere"');
  expect(result.tasks).toEqual([]);
});

test('a permanent failure of a critical task escalates; with no decision the default action ends the run', async () => {
  const result = await run(
    scriptedRequest({
      tasks: [toolTask('t1', 'breaks'), llmTask('t2', ['t1'])],
      tools: { breaks: [{ fail: 'permanent', message: 'HTTP 404 customer not found' }] },
    }),
  );
  expect(result.status).toBe('rejected');
  expect(result.reason).toMatch(/^timeout rejected the run at task t1: no decision within 1\.5 s/);
  expect(result.escalations).toEqual([
    expect.objectContaining({ kind: 'task_failed', reason: 'critical task t1 failed: permanent: HTTP 404 customer not found', decision: 'reject', decidedBy: 'timeout', timedOut: true }),
  ]);
  expect(result.tasks).toEqual([
    expect.objectContaining({ id: 't1', status: 'failed', attempts: 1, error: { kind: 'permanent', message: 'HTTP 404 customer not found' } }),
    expect.objectContaining({ id: 't2', status: 'cancelled' }),
  ]);
  const description = await kit.client.workflow.getHandle(result.workflowId).describe();
  expect(description.typedSearchAttributes.get(keelStatusKey)).toBe('rejected');
});

test('a task that keeps failing transiently stops after its own maxAttempts', async () => {
  const result = await run(
    scriptedRequest({ tasks: [toolTask('t1', 'down', [], { maxAttempts: 2 })], tools: { down: [{ fail: 'transient', message: 'HTTP 503' }] } }),
  );
  expect(result.status).toBe('rejected');
  expect(result.tasks[0]).toMatchObject({ status: 'failed', attempts: 2, error: { kind: 'transient', message: 'HTTP 503' } });
  expect(result.escalations[0]).toMatchObject({ reason: 'critical task t1 failed: transient: HTTP 503' });
});

test('tool input is validated against the tool schema before the tool runs', async () => {
  const result = await run(
    scriptedRequest({
      tasks: [toolTask('t1', 'create_account', [], { input: { customer: '', plan: 'platinum' } })],
      allowedTools: ['create_account'],
      maxReplans: 0,
    }),
  );
  expect(result.status).toBe('rejected');
  expect(result.escalations[0]).toMatchObject({ kind: 'replans_exhausted' });
  expect(result.tasks[0]).toMatchObject({ status: 'failed', attempts: 1, error: { kind: 'semantic' } });
  expect(result.tasks[0]!.error!.message).toMatch(/input for tool "create_account" is not valid: customer: .*; plan: /);
});

test('a scenario without entries for a model key fails with the key to add', async () => {
  const result = await run(scriptedRequest({ tasks: [llmTask('t1')] }));
  expect(result.status).toBe('rejected');
  expect(result.escalations[0]!.reason).toContain('the scenario has no model entries for "task:t1": add "task:t1": [{ "text": "..." }]');
});

test('at the deadline the run stops, cancels work in flight, and says why', async () => {
  const deadline = new Date(Date.now() + 1_500).toISOString();
  const request = { ...scriptedRequest({ tasks: [toolTask('t1', 'slow', [], { timeoutMs: 20_000 })], tools: { slow: [{ result: 1, delayMs: 10_000 }] } }), deadline };
  const started = Date.now();
  const result = await run(request);
  expect(result.status).toBe('failed');
  expect(result.reason).toBe(`deadline ${deadline} passed`);
  expect(result.tasks[0]).toMatchObject({ id: 't1', status: 'cancelled' });
  expect(Date.now() - started).toBeLessThan(9_000);
});

describe('a deadline holds from the run\'s first step', () => {
  const onboarding = () => scriptedRequest({ tasks: [toolTask('account', 'create_account')], tools: { create_account: [{ result: { id: 1 } }] } });

  test('the client refuses a deadline already past, naming it; nothing starts', async () => {
    const request = { ...onboarding(), idempotencyKey: uniqueName('past'), deadline: '2001-01-01T00:00:00Z' };
    const refused = kit.keel.startRun(request);
    await expect(refused).rejects.toThrow(InvalidRequestError);
    await expect(refused).rejects.toThrow(/deadline: 2001-01-01T00:00:00Z has already passed .*give a time in the future/);
    await expect(kit.keel.getStatus(request.idempotencyKey)).rejects.toThrow(RunNotFoundError);
  });

  test('a run started past its deadline without the client (clock skew) does no work at all', async () => {
    const workflowId = uniqueName('skew');
    const request = { ...onboarding(), deadline: new Date(Date.now() - 1_000).toISOString() };
    const result = await kit.withWorker(() => kit.client.workflow.execute('agentRun', { workflowId, taskQueue: kit.taskQueue, args: [request] }));
    expect(result).toMatchObject({ status: 'failed', reason: `deadline ${request.deadline} passed before the run started: nothing was done` });
    expect((await activityTimeline(kit.client, workflowId)).summaries).toEqual([]);
  });

  test('a deadline that passes while the planner works starts no task after it', async () => {
    const deadline = new Date(Date.now() + 1_000).toISOString();
    const request = scriptedRequest({ tasks: [], plans: [{ tasks: [toolTask('account', 'create_account')], delayMs: 2_500 }], tools: { create_account: [{ result: { id: 1 } }] }, allowedTools: ['create_account'] });
    const result = await run({ ...request, deadline });
    expect(result).toMatchObject({ status: 'failed', reason: `deadline ${deadline} passed` });
    expect((await activityTimeline(kit.client, result.workflowId)).summaries).toEqual(['plan']);
  });
});

test('cost and tokens are charged per model call and add up in the result', async () => {
  const result = await run(
    scriptedRequest({
      tasks: [llmTask('t1', [], { tier: 'large' })],
      model: { 'task:t1': [{ text: 'x', usage: { inputTokens: 1000, outputTokens: 500 }, model: 'gpt-4o' }] },
    }),
  );
  expect(result.status).toBe('completed');
  const task = result.tasks[0]!;
  expect(task.model).toBe('gpt-4o');
  expect(task.costUsd).toBeCloseTo((1000 * 2.5 + 500 * 10) / 1e6, 8);
  expect(result.costUsd).toBeGreaterThan(task.costUsd);
  expect(result.tokens.input).toBeGreaterThanOrEqual(1000);
});

test('an invalid request is rejected before start with every problem listed, and nothing starts', async () => {
  const idempotencyKey = uniqueName('invalid');
  const attempt = kit.keel.startRun({ goal: '', budgetUsd: -1, maxTasks: 0, idempotencyKey } as never);
  await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
  const error = (await attempt.catch((caught: unknown) => caught)) as InvalidRequestError;
  expect(error.problems).toEqual(
    expect.arrayContaining([expect.stringMatching(/^goal:/), expect.stringMatching(/^budgetUsd:/), expect.stringMatching(/^maxTasks:/)]),
  );
  await expect(kit.keel.getResult(idempotencyKey)).rejects.toBeInstanceOf(RunNotFoundError);
});

test('the workflow validates the request again when started without the client', async () => {
  const workflowId = uniqueName('raw');
  const result = await kit.withWorker(() =>
    kit.client.workflow.execute('agentRun', { workflowId, taskQueue: kit.taskQueue, args: [{ goal: 'x', budgetUsd: 'lots' }] }),
  );
  expect(result).toMatchObject({ status: 'rejected', reason: expect.stringContaining('budgetUsd') });
});

test('the same idempotency key starts one run; the second start attaches to it', async () => {
  const idempotencyKey = uniqueName('once');
  const request = scriptedRequest({ idempotencyKey, tasks: [llmTask('t1')], model: { 'task:t1': [{ text: 'hi' }] } });
  const [first, second, result, third] = await kit.withWorker(async () => {
    const first = await kit.keel.startRun(request);
    const second = await kit.keel.startRun(request);
    const result = await kit.keel.getResult(first.workflowId);
    const third = await kit.keel.startRun(request); // after it finished, too
    return [first, second, result, third];
  });
  expect(first).toEqual({ workflowId: idempotencyKey, runId: expect.any(String), attached: false });
  expect(second).toEqual({ workflowId: idempotencyKey, runId: first.runId, attached: true });
  expect(third).toEqual({ workflowId: idempotencyKey, runId: first.runId, attached: true });
  expect(result.status).toBe('completed');
  const runs = [];
  for await (const execution of kit.client.workflow.list({ query: `WorkflowId = "${idempotencyKey}"` })) runs.push(execution.runId);
  expect(runs).toEqual([first.runId]);
});

test('the state query shows live progress and KeelStatus tracks the phase', async () => {
  const request = scriptedRequest({ tasks: [toolTask('slow', 'slow_tool')], tools: { slow_tool: [{ result: 1, delayMs: 1500 }] } });
  await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(request);
    let state = await kit.keel.getStatus(workflowId);
    for (let tries = 0; state.tasks[0]?.status !== 'running' && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = await kit.keel.getStatus(workflowId);
    }
    expect(state).toMatchObject({ phase: 'running', plans: 1, tasks: [{ id: 'slow', status: 'running', tool: 'slow_tool' }] });
    const running = await kit.client.workflow.getHandle(workflowId).describe();
    expect(running.typedSearchAttributes.get(keelStatusKey)).toBe('running');
    await kit.keel.getResult(workflowId);
    const finished = await kit.keel.getStatus(workflowId);
    expect(finished.phase).toBe('completed');
    expect(finished.result?.status).toBe('completed');
  });
});

describe('a plan over budget', () => {
  const dear = { tasks: [{ id: 'deep', kind: 'llm' as const, description: 'think hard', tier: 'large' as const, estimatedCostUsd: 0.5 }] };
  const cheap = { tasks: [{ id: 'quick', kind: 'llm' as const, description: 'think a little', tier: 'small' as const, estimatedCostUsd: 0.01 }] };

  test('is sent back to the planner once with the estimate; the cheaper plan runs', async () => {
    const result = await run(scriptedRequest({ tasks: [], plans: [dear, cheap], model: { 'task:quick': [{ text: 'fine' }] }, budgetUsd: 0.1 }));
    expect(result.status).toBe('completed');
    expect(result.planHistory).toMatchObject([
      { number: 1, accepted: false, problems: [expect.stringMatching(/^estimated cost \$0\.5000 exceeds the budget left \(\$0\.09\d\d\)$/)] },
      { number: 2, accepted: true, taskIds: ['quick'], reason: 'initial plan (asked for a cheaper plan)' },
    ]);
    const inputs = (await activityInputs(kit.client, result.workflowId, 'plan')) as Array<{ feedback?: string }>;
    expect(inputs[1]!.feedback).toMatch(/^your plan's estimated cost \$0\.5000 exceeds the budget left \(\$0\.09\d\d\): plan again within it/);
  });

  test('twice is rejected with the estimate, before any task runs', async () => {
    const result = await run(scriptedRequest({ tasks: [], plans: [dear, dear], budgetUsd: 0.1 }));
    expect(result.status).toBe('rejected');
    expect(result.reason).toMatch(/^plan rejected: estimated cost \$0\.5000 exceeds the budget left \(\$0\.09\d\d\)$/); // after what planning cost
    expect(result.planHistory.map((plan) => plan.accepted)).toEqual([false, false]);
    expect(result.tasks).toEqual([]);
  });
});

test('when the budget is spent, a non-critical model task is skipped and the run ends partial', async () => {
  const result = await run(
    scriptedRequest({
      tasks: [llmTask('big'), { ...llmTask('extra', ['big']), critical: false }, toolTask('file', 'archive', ['big'])],
      tools: { archive: [{ result: { ok: true } }] },
      // `big` writes as much as it may: its output stops at the cap that fits what is left.
      model: { 'task:big': [{ text: 'long answer', usage: { inputTokens: 10, outputTokens: 1_000_000 } }] },
      budgetUsd: 0.002,
    }),
  );
  expect(result.tasks.find((task) => task.id === 'extra')).toMatchObject({ status: 'skipped', error: { kind: 'budget', message: expect.stringMatching(/^skipped \(non-critical\): the budget/) } });
  expect(result.tasks.find((task) => task.id === 'file')).toMatchObject({ status: 'completed' });
  expect(result.costUsd).toBeLessThanOrEqual(0.002);
  expect(result.status).toBe('budget_exhausted'); // nothing left for the synthesis either
  expect(result.reason).toMatch(/^synthesis failed: budget/);
});

test('a long run continues as new at a replan, carrying its record; the result is the one an unbroken run gives', async () => {
  const request = (maxHistoryEvents?: number) => ({
    ...scriptedRequest({
      tasks: [],
      plans: [{ tasks: [toolTask('lookup', 'old_api')] }, { tasks: [toolTask('lookup2', 'new_api')] }],
      tools: { old_api: [{ fail: 'semantic' as const, message: 'wrong record type' }], new_api: [{ result: { ok: true } }] },
      allowedTools: ['old_api', 'new_api'],
    }),
    ...(maxHistoryEvents ? { maxHistoryEvents } : {}),
  });
  const { unbroken, continued, workflowId, firstRunId } = await unbrokenAndContinued(kit, request);
  expect(unbroken.continuations).toBeUndefined();
  expect(continued.continuations).toBe(1);
  expect(continued.runId).not.toBe(firstRunId);
  const first = await kit.client.workflow.getHandle(workflowId, firstRunId).describe();
  expect(first.status.name).toBe('CONTINUED_AS_NEW');
  const shape = (result: typeof unbroken) => ({
    status: result.status,
    plans: result.plans,
    replans: result.replans,
    tasks: result.tasks.map(({ id, status, plan, attempts, error }) => ({ id, status, plan, attempts, error })),
    planHistory: result.planHistory,
    costUsd: result.costUsd,
    tokens: result.tokens,
  });
  expect(shape(continued)).toEqual(shape(unbroken));
  expect(continued.tasks.map((task) => `${task.id}:${task.status}`)).toEqual(['lookup:failed', 'lookup2:completed']);
});

// Every failure class takes its path (issue #3's table), on a real dev server.
import { keelStatusKey } from '../../src/shared';
import { activityTimeline, lastAttemptDelays } from '../helpers/history';
import { llmTask, scriptedRequest, toolTask } from '../helpers/scenarios';
import { waitForPending } from '../helpers/escalation';
import { createTestKit, type TestKit } from '../helpers/temporal';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit();
});
afterAll(async () => kit.close());

const run = (request: Parameters<TestKit['run']>[0]) => kit.run(request);

describe('failure classes', () => {
  test('rate_limit waits at least Retry-After before the next attempt', async () => {
    const result = await run(scriptedRequest({ tasks: [toolTask('t1', 'api')], tools: { api: [{ fail: 'rate_limit', retryAfterMs: 2_000 }, { result: 'ok' }] } }));
    expect(result.status).toBe('completed');
    expect(result.tasks[0]).toMatchObject({ status: 'completed', attempts: 2 });
    const [delay] = (await lastAttemptDelays(kit.client, result.workflowId)).filter((item) => item.summary === 't1 · api');
    expect(delay!.attempt).toBe(2);
    expect(delay!.msFromScheduled).toBeGreaterThanOrEqual(2_000);
  });

  test('transient failures stop after 3 retries, then the critical task escalates', async () => {
    const result = await run(scriptedRequest({ tasks: [toolTask('t1', 'down')], tools: { down: [{ fail: 'transient', message: 'HTTP 502' }] } }));
    expect(result.tasks[0]).toMatchObject({ status: 'failed', attempts: 4, error: { kind: 'transient' } });
    expect(result.escalations).toEqual([expect.objectContaining({ kind: 'task_failed', taskId: 't1' })]);
  });

  test('permanent: no retry; the fallback tool is tried and the run completes', async () => {
    const result = await run(
      scriptedRequest({
        tasks: [toolTask('t1', 'primary', [], { fallbackTool: 'backup' })],
        tools: { primary: [{ fail: 'permanent', message: 'HTTP 404' }], backup: [{ result: { from: 'backup' } }] },
      }),
    );
    expect(result.status).toBe('completed');
    expect(result.tasks[0]).toMatchObject({ status: 'completed', attempts: 2 });
    const timeline = await activityTimeline(kit.client, result.workflowId);
    expect(timeline.summaries).toEqual(['plan', 't1 · primary', 't1 · backup', 'synthesize']);
  });

  test('malformed model output is re-asked with the error, then the task completes', async () => {
    const result = await run(scriptedRequest({ tasks: [llmTask('t1', [], { requiredFields: ['score'] })], model: { 'task:t1': [{ text: 'score is 7' }, { json: { score: 7 } }] } }));
    expect(result.status).toBe('completed');
    expect(result.tasks[0]).toMatchObject({ status: 'completed', attempts: 2 });
  });

  test('malformed output that stays malformed is re-asked twice, then the run replans', async () => {
    const result = await run(
      scriptedRequest({
        tasks: [],
        plans: [
          { tasks: [{ id: 'extract', kind: 'llm', description: 'extract fields', requiredFields: ['total'] }] },
          { tasks: [{ id: 'extract2', kind: 'llm', description: 'extract the total only', requiredFields: ['total'] }] },
        ],
        model: { 'task:extract': [{ fail: 'malformed' }], 'task:extract2': [{ json: { total: 12 } }] },
      }),
    );
    expect(result.status).toBe('completed');
    expect(result.tasks.map((task) => [task.id, task.status, task.attempts])).toEqual([
      ['extract', 'failed', 3],
      ['extract2', 'completed', 1],
    ]);
    expect(result.tasks[0]!.error).toMatchObject({ kind: 'malformed', message: expect.stringContaining('is not valid JSON') });
  });

  test('context length: no retry of the same call; the run replans into smaller steps', async () => {
    const result = await run(
      scriptedRequest({
        tasks: [],
        plans: [
          { tasks: [{ id: 'whole', kind: 'llm', description: 'summarize everything at once' }] },
          { tasks: [{ id: 'part1', kind: 'llm', description: 'first half' }, { id: 'part2', kind: 'llm', description: 'second half' }] },
        ],
        model: { 'task:whole': [{ fail: 'context' }], 'task:part1': [{ text: 'a' }], 'task:part2': [{ text: 'b' }] },
      }),
    );
    expect(result.status).toBe('completed');
    expect(result).toMatchObject({ plans: 2, replans: 1 });
    expect(result.tasks.map((task) => [task.id, task.plan, task.status, task.attempts])).toEqual([
      ['whole', 1, 'failed', 1],
      ['part1', 2, 'completed', 1],
      ['part2', 2, 'completed', 1],
    ]);
  });

  test('a Retry-After of 31,000 years waits 60 s at most, says so, and the run stays describable', async () => {
    await kit.withWorker(async () => {
      const { workflowId } = await kit.keel.startRun(scriptedRequest({ tasks: [toolTask('t1', 'api')], tools: { api: [{ fail: 'rate_limit', retryAfterMs: 1e15 }, { result: 'ok' }] } }));
      const handle = kit.client.workflow.getHandle(workflowId);
      let pending: { nextAttemptScheduleTime?: { seconds?: unknown } | null; lastFailure?: { message?: string | null } | null } | undefined;
      for (let tries = 0; !pending?.lastFailure && tries < 100; tries++) {
        pending = (await handle.describe()).raw.pendingActivities?.[0] ?? undefined;
        if (!pending?.lastFailure) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(pending?.lastFailure?.message).toContain('capped at 60 s');
      const nextAttemptMs = Number(pending?.nextAttemptScheduleTime?.seconds) * 1000 - Date.now();
      expect(nextAttemptMs).toBeLessThanOrEqual(61_000);
      await handle.terminate('test done');
    });
  });

  test('budget: the task escalates; rejecting ends the run budget_exhausted', async () => {
    const result = await run(scriptedRequest({ tasks: [llmTask('t1')], model: { 'task:t1': [{ fail: 'budget', message: 'HTTP 402 payment required' }] } }));
    expect(result.status).toBe('budget_exhausted');
    expect(result.escalations[0]).toMatchObject({ kind: 'budget_exhausted', decision: 'reject', decidedBy: 'timeout' });
  });
});

/** $0.01: task big spends it all, so task small waits for a human to raise the budget. */
const dryLedgerRequest = () =>
  scriptedRequest({
    tasks: [],
    budgetUsd: 0.01,
    plans: [{ tasks: [{ id: 'big', kind: 'llm', description: 'expensive' }, { id: 'small', kind: 'llm', description: 'cheap', dependsOn: ['big'] }], usage: { inputTokens: 0, outputTokens: 0 } }],
    model: {
      'task:big': [{ text: 'done', model: 'gpt-4o', usage: { inputTokens: 4_000, outputTokens: 0 } }],
      'task:small': [{ text: 'done', usage: { inputTokens: 10, outputTokens: 10 } }],
      synthesize: [{ text: 'final answer', usage: { inputTokens: 10, outputTokens: 10 } }],
    },
    escalation: { timeoutMs: 60_000 },
  });

test('when the ledger runs dry before a model task a human decides; approve raises the budget once more', async () => {
  const request = dryLedgerRequest();
  const result = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(request);
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending).toMatchObject({ kind: 'budget_exhausted', taskId: 'small', reason: 'the budget of $0.01 is spent before task small' });
    const metadata = (await kit.client.workflow.getHandle(workflowId).query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(metadata.currentDetails).toContain('the budget of USD 0.01 is spent');
    expect(metadata.currentDetails).not.toMatch(/\$\d/); // the UI's Markdown would pair dollar signs into math
    await kit.keel.decide(workflowId, { decision: 'approve', by: 'finance' });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.budgetUsd).toBe(0.02);
  expect(result.costUsd).toBeLessThanOrEqual(result.budgetUsd);
  expect(result.escalations).toEqual([expect.objectContaining({ kind: 'budget_exhausted', decision: 'approve', decidedBy: 'finance' })]);
});

test('approving a budget escalation with "budgetUsd" raises the budget by that amount; budgetUsd on another decision is refused', async () => {
  const request = dryLedgerRequest();
  const result = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(request);
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending?.choices.find((choice) => choice.decision === 'approve')?.effect).toContain('"budgetUsd"');
    await expect(kit.keel.decide(workflowId, { decision: 'reject', budgetUsd: 1, by: 'finance' })).rejects.toThrow(/"budgetUsd" only goes with "approve"/);
    await kit.keel.decide(workflowId, { decision: 'approve', budgetUsd: 0.5, by: 'finance' });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.budgetUsd).toBe(0.51);
  expect(result.escalations).toEqual([expect.objectContaining({ kind: 'budget_exhausted', decision: 'approve', decidedBy: 'finance', budgetUsd: 0.5 })]);
});

describe('replanning', () => {
  const failedCall = { id: 'lookup', kind: 'tool', tool: 'crm', description: 'look up by name', input: { name: 'ACME' } } as const;

  test('a semantic tool failure replans without the failed action; completed tasks are not re-run', async () => {
    const result = await run(
      scriptedRequest({
        tasks: [],
        allowedTools: ['crm', 'fetch'],
        plans: [
          { tasks: [{ id: 'fetch', kind: 'tool', tool: 'fetch', description: 'fetch' }, { ...failedCall, dependsOn: ['fetch'] }] },
          { tasks: [{ id: 'lookup2', kind: 'tool', tool: 'crm', description: 'look up by id', input: { id: 42 }, dependsOn: ['fetch'] }] },
        ],
        tools: { fetch: [{ result: 'data' }], crm: [{ fail: 'semantic', message: 'no customer named ACME' }, { result: { id: 42 } }] },
      }),
    );
    expect(result.status).toBe('completed');
    expect(result.tasks.map((task) => [task.id, task.plan, task.status])).toEqual([
      ['fetch', 1, 'completed'],
      ['lookup', 1, 'failed'],
      ['lookup2', 2, 'completed'],
    ]);
    expect(result.planHistory[1]).toMatchObject({ accepted: true, reason: 'replan: task lookup failed: semantic: no customer named ACME' });
    const timeline = await activityTimeline(kit.client, result.workflowId);
    expect(timeline.summaries.filter((summary) => summary.startsWith('fetch'))).toHaveLength(1);
  });

  test('a replan that repeats the failed call is rejected and counts; when replans run out a human is asked', async () => {
    const result = await run(
      scriptedRequest({
        tasks: [],
        allowedTools: ['crm'],
        maxReplans: 1,
        plans: [{ tasks: [failedCall] }],
        tools: { crm: [{ fail: 'semantic', message: 'no customer named ACME' }] },
      }),
    );
    expect(result.status).toBe('rejected');
    expect(result.replans).toBe(1);
    expect(result.planHistory[1]).toMatchObject({ accepted: false, problems: ['task "lookup" repeats the failed call crm({"name":"ACME"}) unchanged'] });
    expect(result.escalations).toEqual([expect.objectContaining({ kind: 'replans_exhausted', decision: 'reject' })]);
  });

  test('an evaluator `hard` verdict replans with the reason', async () => {
    const result = await run(
      scriptedRequest({
        tasks: [],
        plans: [{ tasks: [{ id: 'draft', kind: 'llm', description: 'draft' }] }, { tasks: [{ id: 'draft2', kind: 'llm', description: 'draft again, shorter' }] }],
        model: { 'task:draft': [{ text: 'way too long' }], 'evaluate:draft': [{ verdict: 'hard', reason: 'over the length limit' }], 'task:draft2': [{ text: 'short' }] },
      }),
    );
    expect(result.status).toBe('completed');
    expect(result.tasks[0]).toMatchObject({ id: 'draft', status: 'failed', error: { kind: 'semantic', message: 'evaluator: over the length limit' } });
    expect(result.planHistory[1]!.reason).toContain('over the length limit');
  });
});

describe('degrading', () => {
  test('a failed non-critical task is skipped with its non-critical dependents: the run ends partial', async () => {
    const result = await run(
      scriptedRequest({
        tasks: [toolTask('main', 'core'), toolTask('extra', 'enrich', [], { critical: false }), llmTask('extra_summary', ['extra'], { critical: false })],
        tools: { core: [{ result: 1 }], enrich: [{ fail: 'permanent', message: 'HTTP 500 from enrichment' }] },
      }),
    );
    expect(result.status).toBe('partial');
    expect(result.output).toBe('final answer');
    expect(result.tasks.map((task) => [task.id, task.status])).toEqual([
      ['main', 'completed'],
      ['extra', 'skipped'],
      ['extra_summary', 'skipped'],
    ]);
    expect(result.reason).toContain('extra (skipped (non-critical): HTTP 500 from enrichment)');
    const description = await kit.client.workflow.getHandle(result.workflowId).describe();
    expect(description.typedSearchAttributes.get(keelStatusKey)).toBe('partial');
  });

  test('a critical task that depends on a skipped one makes the run replan', async () => {
    const result = await run(
      scriptedRequest({
        tasks: [],
        allowedTools: ['enrich'],
        plans: [
          { tasks: [{ id: 'extra', kind: 'tool', tool: 'enrich', description: 'enrich', critical: false }, { id: 'report', kind: 'llm', description: 'report', dependsOn: ['extra'] }] },
          { tasks: [{ id: 'report2', kind: 'llm', description: 'report without enrichment' }] },
        ],
        tools: { enrich: [{ fail: 'permanent' }] },
        model: { 'task:report2': [{ text: 'ok' }] },
      }),
    );
    expect(result.status).toBe('partial');
    expect(result.planHistory[1]).toMatchObject({ accepted: true, reason: 'replan: critical task report depends on skipped extra' });
    expect(result.tasks.find((task) => task.id === 'report2')!.status).toBe('completed');
  });

  test('a soft verdict is a warning in the result, and the run continues', async () => {
    const result = await run(scriptedRequest({ tasks: [llmTask('t1')], model: { 'task:t1': [{ text: 'fine' }], 'evaluate:t1': [{ verdict: 'soft', reason: 'a bit terse' }] } }));
    expect(result.status).toBe('completed');
    expect(result.tasks[0]).toMatchObject({ status: 'completed', warning: 'a bit terse' });
  });
});

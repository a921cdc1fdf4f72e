// Escalation: a human decides through the validated update or the signal the Web UI sends.
import { InvalidDecisionError } from '../../src/client';
import { decideSignal, keelStatusKey, type AgentRequestInput } from '../../src/shared';
import { waitForPending } from '../helpers/escalation';
import { activityInputs } from '../helpers/history';
import { llmTask, scriptedRequest, toolTask } from '../helpers/scenarios';
import { createTestKit, type TestKit } from '../helpers/temporal';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit();
});
afterAll(async () => kit.close());

const review = (extra: Record<string, unknown> = {}) =>
  scriptedRequest({
    tasks: [llmTask('draft'), { id: 'review', kind: 'human_review', description: 'check the draft', dependsOn: ['draft'], ...extra }, llmTask('publish', ['review'], extra)],
    model: { 'task:draft': [{ text: 'the draft' }], 'task:publish': [{ text: 'published' }] },
    escalation: { timeoutMs: 60_000 },
  });

async function withRun<T>(request: AgentRequestInput, body: (workflowId: string) => Promise<T>): Promise<T> {
  return kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(request);
    return body(workflowId);
  });
}

test('a human_review task waits with KeelStatus awaiting_approval and Markdown details, and approve continues it', async () => {
  const result = await withRun(review(), async (workflowId) => {
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending).toMatchObject({ kind: 'human_review', taskId: 'review', defaultAction: 'reject' });
    expect(pending.choices.map((choice) => choice.decision)).toEqual(['approve', 'reject', 'replan']);
    const handle = kit.client.workflow.getHandle(workflowId);
    expect((await handle.describe()).typedSearchAttributes.get(keelStatusKey)).toBe('awaiting_approval');
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string; definition?: { signalDefinitions?: Array<{ name: string; description?: string }> } };
    expect(metadata.currentDetails).toContain('**Why the run stopped:** task review needs a human review: check the draft');
    expect(metadata.currentDetails).toContain('- draft completed: the draft');
    expect(metadata.currentDetails).toContain('signal name **`decide`**');
    // Indented as the Web UI's editor keeps it, so a paste does not reflow under the Submit button.
    expect(metadata.currentDetails).toContain('```json\n{\n  "decision": "approve",\n  "taskId": "review",\n  "note": "optional",\n  "by": "your-name"\n}\n```');
    expect(metadata.definition?.signalDefinitions).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'decide', description: expect.stringContaining('approve|reject') })]));

    const receipt = await kit.keel.decide(workflowId, { decision: 'approve', note: 'looks right', by: 'dana' });
    expect(receipt).toEqual({ accepted: true, escalationId: 1, decision: 'approve', by: 'dana', verified: false });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.escalations).toEqual([
    expect.objectContaining({ kind: 'human_review', taskId: 'review', decision: 'approve', decidedBy: 'dana', note: 'looks right', decidedAt: expect.any(String) }),
  ]);
  expect(result.tasks.map((task) => task.status)).toEqual(['completed', 'completed', 'completed']);
});

test('reject ends the run rejected, recording who and why', async () => {
  const result = await withRun(review(), async (workflowId) => {
    await waitForPending(kit.keel, workflowId);
    await kit.keel.decide(workflowId, { decision: 'reject', note: 'wrong customer', by: 'lee' });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('rejected');
  expect(result.reason).toBe('lee rejected the run at task review: wrong customer');
  expect(result.tasks.find((task) => task.id === 'publish')!.status).toBe('cancelled');
});

test('the update refuses what the run cannot do: bad payload, impossible choice, wrong task, nothing pending', async () => {
  await withRun(review(), async (workflowId) => {
    await expect(kit.keel.decide(workflowId, { decision: 'approve' })).rejects.toThrow(/no pending escalation/);
    await waitForPending(kit.keel, workflowId);
    await expect(kit.keel.decide(workflowId, { decision: 'maybe' } as never)).rejects.toThrow(/invalid decision: decision: /);
    await expect(kit.keel.decide(workflowId, { decision: 'skip' })).rejects.toThrow(/"skip" is not possible here; choose one of: approve, reject, replan/);
    await expect(kit.keel.decide(workflowId, { decision: 'approve', taskId: 'draft' })).rejects.toBeInstanceOf(InvalidDecisionError);
    await kit.keel.decide(workflowId, { decision: 'approve', taskId: 'review' });
    expect((await kit.keel.getResult(workflowId)).status).toBe('completed');
  });
});

test('defaultAction "skip" on a critical review is not a choice: the run says it takes reject, and why, before and after', async () => {
  const request = scriptedRequest({
    tasks: [llmTask('draft'), { id: 'review', kind: 'human_review', description: 'check the draft', dependsOn: ['draft'] }],
    model: { 'task:draft': [{ text: 'the draft' }] },
    escalation: { timeoutMs: 2_000, defaultAction: 'skip' },
  });
  const result = await withRun(request, async (workflowId) => {
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending).toMatchObject({ defaultAction: 'reject', defaultNote: 'the request\'s escalation.defaultAction "skip" is not a choice here (a critical task cannot be skipped), so it is "reject"' });
    const metadata = (await kit.client.workflow.getHandle(workflowId).query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(metadata.currentDetails).toContain('the run takes `reject` (the request\'s escalation.defaultAction "skip" is not a choice here');
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('rejected');
  expect(result.escalations[0]).toMatchObject({ decidedBy: 'timeout', decision: 'reject', note: expect.stringContaining('"skip" is not a choice here (a critical task cannot be skipped)') });
});

test('a decision after someone else decided is refused with who decided and when', async () => {
  const request = scriptedRequest({
    tasks: [{ id: 'review', kind: 'human_review', description: 'check it', dependsOn: [] }, toolTask('ship', 'ship', ['review'])],
    tools: { ship: [{ result: 'shipped', delayMs: 5_000 }] },
    escalation: { timeoutMs: 60_000 },
  });
  const result = await withRun(request, async (workflowId) => {
    await waitForPending(kit.keel, workflowId);
    await kit.client.workflow.getHandle(workflowId).signal(decideSignal, { decision: 'approve', by: 'ana' });
    // The run is now shipping; a second person's approval comes too late.
    for (let tries = 0; tries < 50 && (await kit.keel.getPending(workflowId)) !== null; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(kit.keel.decide(workflowId, { decision: 'approve', by: 'bo' })).rejects.toThrow(
      /this run has no pending escalation to decide; the last one \(task review\) was decided: approve by ana at \d{4}-/,
    );
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.escalations).toEqual([expect.objectContaining({ decidedBy: 'ana' })]);
});

test('an invalid signal is recorded and ignored; the run keeps waiting for a valid one', async () => {
  const result = await withRun(review(), async (workflowId) => {
    await waitForPending(kit.keel, workflowId);
    const handle = kit.client.workflow.getHandle(workflowId);
    await handle.signal(decideSignal, { decision: 'yes please' } as never);
    await handle.signal(decideSignal, { decision: 'retry' }); // not a choice for a review
    const state = await kit.keel.getStatus(workflowId);
    expect(state.ignoredSignals).toEqual([
      { payload: { decision: 'yes please' }, reason: expect.stringMatching(/^invalid decision: decision: /) },
      { payload: { decision: 'retry' }, reason: expect.stringContaining('"retry" is not possible here') },
    ]);
    expect(state.phase).toBe('awaiting_approval');
    await handle.signal(decideSignal, { decision: 'approve', by: 'web-ui-user' });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.escalations[0]).toMatchObject({ decision: 'approve', decidedBy: 'web-ui-user' });
});

test('large invalid signals are kept as a bounded preview: the state query still fits and `keel status` works', async () => {
  const result = await withRun(review(), async (workflowId) => {
    await waitForPending(kit.keel, workflowId);
    const handle = kit.client.workflow.getHandle(workflowId);
    const huge = { decision: 'approve', note: 'x'.repeat(1_200_000) }; // note over its 4,000 characters
    for (let index = 0; index < 4; index++) await handle.signal(decideSignal, huge as never);
    for (let index = 0; index < 21; index++) await handle.signal(decideSignal, { decision: `no-${index}` } as never);
    const state = await kit.keel.getStatus(workflowId);
    expect(state.ignoredSignals).toHaveLength(20);
    expect(state.ignoredSignalCount).toBe(25);
    expect(state.ignoredSignals.at(-1)).toEqual({ payload: { decision: 'no-20' }, reason: expect.stringMatching(/^invalid decision/) });
    const stateBytes = JSON.stringify(state).length;
    expect(stateBytes).toBeLessThan(64_000);
    await handle.signal(decideSignal, { decision: 'approve', by: 'ana' });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
}, 60_000);

test('the first of many large signals is kept as the start of its JSON with its size', async () => {
  await withRun(review(), async (workflowId) => {
    await waitForPending(kit.keel, workflowId);
    const handle = kit.client.workflow.getHandle(workflowId);
    await handle.signal(decideSignal, { decision: 'approve', note: 'y'.repeat(1_200_000) } as never);
    const [ignored] = (await kit.keel.getStatus(workflowId)).ignoredSignals;
    expect(typeof ignored!.payload).toBe('string');
    expect((ignored!.payload as string).length).toBeLessThanOrEqual(1_025);
    expect(ignored!.payload as string).toMatch(/^\{"decision":"approve","note":"yyyy/);
    expect(ignored!.bytes).toBeGreaterThan(1_200_000);
    expect(ignored!.reason.length).toBeLessThan(600);
    await handle.signal(decideSignal, { decision: 'approve', by: 'ana' });
    return kit.keel.getResult(workflowId);
  });
});

test('a signal without "by" is credited to the client identity its history records', async () => {
  const result = await withRun(review(), async (workflowId) => {
    await waitForPending(kit.keel, workflowId);
    await kit.client.workflow.getHandle(workflowId).signal(decideSignal, { decision: 'approve' });
    return kit.keel.getResult(workflowId);
  });
  expect(result.escalations[0]!.decidedBy).toBe(`${kit.client.options.identity} (signal)`);
});

test('skip on a non-critical review ends partial; the default action is taken on timeout and recorded as such', async () => {
  const skipped = await withRun(review({ critical: false }), async (workflowId) => {
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending.choices.map((choice) => choice.decision)).toContain('skip');
    await kit.keel.decide(workflowId, { decision: 'skip', by: 'kim' });
    return kit.keel.getResult(workflowId);
  });
  expect(skipped.status).toBe('partial');
  expect(skipped.tasks.map((task) => [task.id, task.status])).toEqual([
    ['draft', 'completed'],
    ['review', 'skipped'],
    ['publish', 'skipped'],
  ]);

  const request = scriptedRequest({
    tasks: [{ id: 'review', kind: 'human_review', description: 'sign off' }],
    escalation: { timeoutMs: 1_000, defaultAction: 'approve' },
  });
  const timedOut = await withRun(request, (workflowId) => kit.keel.getResult(workflowId));
  expect(timedOut.status).toBe('completed');
  expect(timedOut.escalations[0]).toMatchObject({ decision: 'approve', decidedBy: 'timeout', timedOut: true, note: 'no decision within 1 s: took the default action' });
});

test('retry runs a failed critical task again', async () => {
  const request = scriptedRequest({
    tasks: [toolTask('t1', 'crm')],
    tools: { crm: [{ fail: 'permanent', message: 'HTTP 403 token expired' }, { result: 'ok' }] },
    escalation: { timeoutMs: 60_000 },
  });
  const result = await withRun(request, async (workflowId) => {
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending).toMatchObject({ kind: 'task_failed', taskId: 't1', reason: 'critical task t1 failed: permanent: HTTP 403 token expired' });
    await kit.keel.decide(workflowId, { decision: 'retry', note: 'rotated the token' });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.tasks[0]).toMatchObject({ status: 'completed', attempts: 2 });
  expect(result.escalations[0]!.decidedBy).toBe(kit.keel.identity);
});

test('replan with guidance plans the remaining work again and the guidance reaches the planner', async () => {
  const request = scriptedRequest({
    tasks: [],
    allowedTools: ['crm'],
    plans: [
      { tasks: [{ id: 't1', kind: 'tool', tool: 'crm', description: 'update by name', input: { name: 'ACME' } }] },
      { tasks: [{ id: 't2', kind: 'tool', tool: 'crm', description: 'update by id', input: { id: 7 } }] },
    ],
    tools: { crm: [{ fail: 'permanent', message: 'HTTP 409 conflict' }, { result: 'updated' }] },
    escalation: { timeoutMs: 60_000 },
  });
  const result = await withRun(request, async (workflowId) => {
    await waitForPending(kit.keel, workflowId);
    await kit.keel.decide(workflowId, { decision: 'replan', guidance: 'use the customer id 7', by: 'ops' });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.planHistory.map((plan) => plan.reason)).toEqual(['initial plan', 'replan: ops asked for a replan at task t1']);
  expect(result.escalations[0]).toMatchObject({ decision: 'replan', guidance: 'use the customer id 7' });
  const planInputs = (await activityInputs(kit.client, result.workflowId, 'plan')) as Array<{ replan?: { guidance?: string; failed?: { message: string } } }>;
  expect(planInputs).toHaveLength(2);
  expect(planInputs[1]!.replan).toMatchObject({ guidance: 'use the customer id 7', failed: { message: 'HTTP 409 conflict' } });
});

test('an operator can force a replan of a running run with the replan signal', async () => {
  const request = scriptedRequest({
    tasks: [],
    allowedTools: ['slow', 'fast'],
    plans: [
      { tasks: [{ id: 'a', kind: 'tool', tool: 'slow', description: 'slow step' }, { id: 'b', kind: 'tool', tool: 'slow', description: 'more', dependsOn: ['a'] }] },
      { tasks: [{ id: 'c', kind: 'tool', tool: 'fast', description: 'the better way', dependsOn: ['a'] }] },
    ],
    tools: { slow: [{ result: 'a done', delayMs: 1_500 }], fast: [{ result: 'c done' }] },
  });
  const result = await withRun(request, async (workflowId) => {
    // Replan mid-execution: wait until task a is running (a fixed sleep races the planner under load).
    for (let tries = 0; tries < 100; tries++) {
      const state = await kit.keel.getStatus(workflowId);
      if (state.tasks.find((task) => task.id === 'a')?.status === 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await kit.keel.requestReplan(workflowId, 'skip b, do c instead', 'sam');
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.tasks.map((task) => [task.id, task.status])).toEqual([
    ['a', 'completed'],
    ['b', 'cancelled'],
    ['c', 'completed'],
  ]);
  expect(result.planHistory[1]!.reason).toBe('replan: sam asked for a replan');
});

test('a critical evaluator verdict escalates; approve accepts the result', async () => {
  const request = scriptedRequest({
    tasks: [llmTask('t1')],
    model: { 'task:t1': [{ text: 'refund $9,000' }], 'evaluate:t1': [{ verdict: 'critical', reason: 'refund above the $500 limit' }] },
    escalation: { timeoutMs: 60_000 },
  });
  const result = await withRun(request, async (workflowId) => {
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending).toMatchObject({ kind: 'critical_verdict', taskId: 't1' });
    await kit.keel.decide(workflowId, { decision: 'approve', by: 'finance' });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.tasks[0]).toMatchObject({ status: 'completed', warning: 'accepted by finance despite a critical verdict' });
});

// The agent loop on a real dev server: a model calls tools step by step until it answers, each
// step and each tool call its own activity, within the bounds the workflow holds.
import { readFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import path from 'node:path';
import { InvalidRequestError } from '../../src/client';
import { parseScenario, type AgentRequestInput, type RunResult, type ScriptedModelEntry, type ScriptedToolEntry, type TaskDraft } from '../../src/shared';
import { waitForPending } from '../helpers/escalation';
import { activityInputs, activityTimeline } from '../helpers/history';
import { createTestKit, unbrokenAndContinued, type TestKit } from '../helpers/temporal';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit();
});
afterAll(async () => kit.close());

/** A whole run as one agent loop over `tools`, scripted. */
function agentRequest(options: { steps: ScriptedModelEntry[]; tools: Record<string, ScriptedToolEntry[]>; maxSteps?: number; model?: Record<string, ScriptedModelEntry[]> }): AgentRequestInput {
  return {
    goal: 'help the customer with order 7',
    tools: Object.keys(options.tools),
    agent: options.maxSteps ? { maxSteps: options.maxSteps } : {},
    escalation: { timeoutMs: 1_500, defaultAction: 'reject' },
    scenario: { model: { 'step:agent': options.steps, ...options.model }, tools: options.tools },
  };
}

/** A plan whose non-critical agent task `research` runs first, and whose answer comes from a tool task that does not need it. */
function researchThenReply(research: Partial<TaskDraft> & { tools: string[] }, steps: ScriptedModelEntry[], tools: Record<string, ScriptedToolEntry[]>): AgentRequestInput {
  return {
    goal: 'research, then answer',
    tools: [...research.tools, 'answer_tool'],
    escalation: { timeoutMs: 1_500, defaultAction: 'reject' },
    plan: { tasks: [{ id: 'research', kind: 'agent', description: 'dig around', critical: false, ...research }, { id: 'reply', kind: 'tool', tool: 'answer_tool', description: 'answer' }], outputFrom: 'reply' },
    scenario: { model: { 'step:research': steps }, tools: { ...tools, answer_tool: [{ result: 'done' }] } },
  };
}

test('support-agent: parallel calls in a step, a semantic failure the model corrects, and the answer is the run\'s', async () => {
  const { request } = parseScenario(readFileSync(path.resolve(__dirname, '../../examples/support-agent.json'), 'utf8'), 'support-agent.json');
  const result = await kit.run(request);
  expect(result.status).toBe('completed');
  expect(result.output).toBe('Order 7 left the warehouse this morning and arrives Thursday; the blue mug is back in stock (14 left).');
  expect(result.tasks).toEqual([
    expect.objectContaining({
      id: 'agent',
      kind: 'agent',
      status: 'completed',
      steps: 3,
      toolCalls: [
        { step: 1, tool: 'lookup_order', status: 'failed' },
        { step: 1, tool: 'check_stock', status: 'completed' },
        { step: 2, tool: 'lookup_order', status: 'completed' },
      ],
    }),
  ]);
  const timeline = await activityTimeline(kit.client, result.workflowId);
  // No planner and no synthesis call: steps and tool calls only, labelled for the Web UI.
  expect(timeline.summaries).toEqual(['agent · step 1', 'agent · lookup_order', 'agent · check_stock', 'agent · step 2', 'agent · lookup_order', 'agent · step 3']);
  // The two calls of step 1 were both scheduled before either completed: they ran side by side.
  const calls = await activityInputs(kit.client, result.workflowId, 'callTool');
  expect(calls).toEqual([
    expect.objectContaining({ tool: 'lookup_order', input: { orderId: 71 }, idempotencyKey: `${result.workflowId}:agent:1:0` }),
    expect.objectContaining({ tool: 'check_stock', input: { sku: 'MUG-BLUE' }, idempotencyKey: `${result.workflowId}:agent:1:1` }),
    expect.objectContaining({ tool: 'lookup_order', input: { orderId: 7 }, idempotencyKey: `${result.workflowId}:agent:2:0` }),
  ]);
  const history = await kit.client.workflow.getHandle(result.workflowId).fetchHistory();
  const scheduledAt = (index: number) => history.events!.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'callTool')[index]!.eventId;
  const firstCompletion = history.events!.find((event) => event.eventType === 12 /* ACTIVITY_TASK_COMPLETED */ && Number(event.eventId) > Number(scheduledAt(0)))!.eventId;
  expect(Number(scheduledAt(1))).toBeLessThan(Number(firstCompletion));
  // The model read the semantic failure at step 2, as a message, not as a failed run.
  const steps = (await activityInputs(kit.client, result.workflowId, 'agentStep')) as Array<{ step: number; newMessages: Array<{ tool?: string; error?: string; result?: unknown }>; transcript?: unknown }>;
  expect(steps.map((step) => step.step)).toEqual([1, 2, 3]);
  expect(steps[1]!.newMessages).toEqual([
    expect.objectContaining({ tool: 'lookup_order', error: 'no order 71 for ana@example.com (her orders: 7, 12)' }),
    expect.objectContaining({ tool: 'check_stock', result: { sku: 'MUG-BLUE', inStock: 14 } }),
  ]);
  // Each step carries one reference to the transcript so far, never the transcript itself.
  expect(steps[0]!.transcript).toBeUndefined();
  expect(steps[2]!.transcript).toEqual(expect.objectContaining({ $keelBlob: expect.stringMatching(/^[0-9a-f]{64}$/) }));
});

test('maxSteps: a loop that never answers ends semantic, naming the bound; a non-critical agent is skipped and the run is partial', async () => {
  const result = await kit.run(
    researchThenReply({ tools: ['search'], maxSteps: 2 }, [{ toolCalls: [{ tool: 'search', input: { q: 'a' } }] }, { toolCalls: [{ tool: 'search', input: { q: 'b' } }] }], { search: [{ result: 'nothing' }] }),
  );
  expect(result.status).toBe('partial');
  expect(result.tasks[0]).toMatchObject({ id: 'research', status: 'skipped', steps: 2, error: { kind: 'semantic', message: expect.stringContaining('agent loop: maxSteps (2) reached without an answer') } });
  expect(result.reason).toContain('maxSteps (2) reached');
});

test('loop detection: the same call twice in a row is pointed out to the model; a third time ends the loop', async () => {
  const same = { toolCalls: [{ tool: 'lookup_order', input: { orderId: 7 } }] };
  const result = await kit.run(agentRequest({ steps: [same, same, same, { text: 'never reached' }], tools: { lookup_order: [{ result: { status: 'paid' } }] }, maxSteps: 5, model: { plan: [{ fail: 'permanent', message: 'no planner here' }] } }));
  expect(result.status).not.toBe('completed');
  expect(result.tasks[0]).toMatchObject({ id: 'agent', status: 'failed', steps: 3, error: { kind: 'semantic', message: expect.stringContaining('the same tool call(s) three steps in a row') } });
  const steps = (await activityInputs(kit.client, result.workflowId, 'agentStep')) as Array<{ newMessages: Array<{ role: string; text?: string }> }>;
  expect(steps[2]!.newMessages).toEqual(expect.arrayContaining([expect.objectContaining({ role: 'note', text: expect.stringContaining('the same tool call(s) as at the step before') })]));
});

test('a tool the agent may not call, and a malformed step, come back to the model, which goes on', async () => {
  const result = await kit.run(
    agentRequest({
      steps: [{ toolCalls: [{ tool: 'delete_everything', input: {} }] }, { fail: 'malformed' }, { json: { answer: { orderId: 7, status: 'paid' } } }],
      tools: { lookup_order: [{ result: {} }] },
    }),
  );
  expect(result.status).toBe('completed');
  expect(JSON.parse(result.output!)).toEqual({ orderId: 7, status: 'paid' });
  expect(result.tasks[0]).toMatchObject({ steps: 3, toolCalls: [{ step: 1, tool: 'delete_everything', status: 'failed' }] });
  const steps = (await activityInputs(kit.client, result.workflowId, 'agentStep')) as Array<{ newMessages: Array<{ role: string; error?: string; text?: string }> }>;
  expect(steps[1]!.newMessages[0]).toMatchObject({ role: 'tool', error: 'there is no tool "delete_everything" here; you may call: lookup_order' });
  expect(steps[2]!.newMessages.at(-1)).toMatchObject({ role: 'note', text: expect.stringContaining('could not be read') });
  expect((await activityTimeline(kit.client, result.workflowId)).types).not.toContain('plan');
});

test('the doors refuse an agent run without tools, or with a plan too', async () => {
  await expect(kit.keel.startRun({ goal: 'g', agent: {} })).rejects.toThrow(InvalidRequestError);
  await expect(kit.keel.startRun({ goal: 'g', agent: {} })).rejects.toThrow(/agent: an agent run calls tools: list the ones it may call in tools/);
  await expect(kit.keel.startRun({ goal: 'g', tools: ['x'], agent: {}, plan: { tasks: [{ id: 'a', kind: 'tool', tool: 'x', description: 'd' }] } })).rejects.toThrow(/give agent or plan, not both/);
  await expect(kit.keel.startRun({ goal: 'g', tools: ['x'], plan: { tasks: [{ id: 'a', kind: 'agent', description: 'd' }] } })).rejects.toThrow(/task a is an agent task but names no tools/);
});

test('a long loop continues as new between steps, carrying its transcript and bounds; the result is the one an unbroken loop gives', async () => {
  const request = (maxHistoryEvents?: number): AgentRequestInput => ({
    ...agentRequest({
      steps: [...[1, 2, 3, 4, 5].map((page) => ({ toolCalls: [{ tool: 'read_page', input: { page } }] })), { text: 'read five pages' }],
      tools: { read_page: [{ result: { words: 300 } }] },
      maxSteps: 8,
    }),
    ...(maxHistoryEvents ? { maxHistoryEvents } : {}),
  });
  const { unbroken, continued, workflowId, firstRunId } = await unbrokenAndContinued(kit, request);
  expect(unbroken.continuations).toBeUndefined();
  expect(continued.continuations).toBeGreaterThanOrEqual(2);
  expect((await kit.client.workflow.getHandle(workflowId, firstRunId).describe()).status.name).toBe('CONTINUED_AS_NEW');
  const shape = (result: RunResult) => ({ status: result.status, output: result.output, tasks: result.tasks.map(({ id, status, steps, toolCalls, attempts }) => ({ id, status, steps, toolCalls, attempts })), costUsd: result.costUsd, tokens: result.tokens });
  expect(shape(continued)).toEqual(shape(unbroken));
  expect(continued.tasks[0]).toMatchObject({ status: 'completed', steps: 6, toolCalls: [1, 2, 3, 4, 5].map(() => ({ step: expect.any(Number), tool: 'read_page', status: 'completed' })) });
  // The last run's first step carries the transcript the earlier runs built: a reference, not the messages.
  const steps = (await activityInputs(kit.client, workflowId, 'agentStep')) as Array<{ step: number; transcript?: { $keelBlob?: string } }>;
  expect(steps[0]!.step).toBeGreaterThan(1);
  expect(steps[0]!.transcript?.$keelBlob).toEqual(expect.any(String));
});

test('30 steps: each step\'s input stays the same size (one transcript reference), so history grows linearly', async () => {
  const steps: ScriptedModelEntry[] = Array.from({ length: 30 }, (_unused, index) => ({ toolCalls: [{ tool: 'read_page', input: { page: index + 1 } }] }));
  const page = 'x'.repeat(1_000);
  const result = await kit.run(agentRequest({ steps: [...steps, { text: 'read them all' }], tools: { read_page: [{ result: { page } }] }, maxSteps: 31 }));
  expect(result).toMatchObject({ status: 'completed', tasks: [expect.objectContaining({ steps: 31 })] });
  const inputs = (await activityInputs(kit.client, result.workflowId, 'agentStep')).map((input) => JSON.stringify(input).length);
  // Step 2 on carries the last step's results and one reference; step 31 is no bigger than step 2.
  expect(Math.max(...inputs.slice(1))).toBeLessThan(1.2 * Math.min(...inputs.slice(1)));
  const exported = JSON.parse(historyToJSON(await kit.client.workflow.getHandle(result.workflowId).fetchHistory())) as { events: Array<{ eventType: string }> };
  const history = JSON.stringify(exported);
  const transcript = 30 * JSON.stringify({ role: 'tool', step: 1, tool: 'read_page', input: { page: 1 }, result: { page } }).length;
  // Measured, not asserted (a scripted run's step and tool inputs also carry their script slices):
  process.stdout.write(`agent loop, 31 steps: history ${history.length} bytes, transcript ${transcript} bytes: ${(history.length / transcript).toFixed(2)}×, ${Math.round(history.length / 31)} bytes a step\n`);
}, 120_000);

describe('tool_approval', () => {
  const refundRun = (escalation: { timeoutMs: number; defaultAction?: 'approve' | 'reject' } = { timeoutMs: 60_000 }): AgentRequestInput => ({
    ...agentRequest({
      steps: [{ toolCalls: [{ tool: 'refund', input: { orderId: 7, cents: 500 } }] }, { text: 'done' }],
      tools: { refund: [{ result: { refunded: true } }] },
    }),
    approvals: { tools: ['refund'] },
    escalation: { defaultAction: 'reject', ...escalation },
  });

  test('approve with an edited input: the call runs with the human\'s input; the details show the proposed one', async () => {
    const result = await kit.withWorker(async () => {
      const { workflowId } = await kit.keel.startRun(refundRun());
      const pending = await waitForPending(kit.keel, workflowId);
      expect(pending).toMatchObject({ kind: 'tool_approval', taskId: 'agent', reason: 'task agent wants to call refund, which needs a human\'s approval' });
      expect(pending!.choices.map((choice) => choice.decision)).toEqual(['approve', 'reject']);
      const metadata = (await kit.client.workflow.getHandle(workflowId).query('__temporal_workflow_metadata')) as { currentDetails?: string };
      expect(metadata.currentDetails).toContain('the proposed input: {"orderId":7,"cents":500}');
      await expect(kit.keel.decide(workflowId, { decision: 'reject', input: { cents: 1 } })).rejects.toThrow(/"input" only goes with "approve" on a tool_approval escalation/);
      await kit.keel.decide(workflowId, { decision: 'approve', input: { orderId: 7, cents: 300 }, by: 'ana' });
      return kit.keel.getResult(workflowId);
    });
    expect(result.status).toBe('completed');
    expect(result.escalations).toEqual([expect.objectContaining({ kind: 'tool_approval', decision: 'approve', decidedBy: 'ana' })]);
    expect(await activityInputs(kit.client, result.workflowId, 'callTool')).toEqual([expect.objectContaining({ tool: 'refund', input: { orderId: 7, cents: 300 } })]);
  });

  test("an edited input the worker's tool would refuse is refused by the update's validator, before the run takes it", async () => {
    // create_account is a real tool of the worker: the approval carries its input schema.
    const request: AgentRequestInput = {
      goal: 'open an account for ACME',
      tools: ['create_account'],
      agent: {},
      approvals: { tools: ['create_account'] },
      escalation: { timeoutMs: 60_000, defaultAction: 'reject' },
      scenario: { model: { 'step:agent': [{ toolCalls: [{ tool: 'create_account', input: { customer: 'ACME', plan: 'starter' } }] }, { text: 'done' }] }, tools: {} },
    };
    const result = await kit.withWorker(async () => {
      const { workflowId } = await kit.keel.startRun(request);
      await waitForPending(kit.keel, workflowId);
      await expect(kit.keel.decide(workflowId, { decision: 'approve', input: { customer: 'ACME', plan: 'platinum' } })).rejects.toThrow(
        '"input" does not fit the input schema of create_account: plan: Invalid option: expected one of "starter"|"team"|"enterprise"',
      );
      await expect(kit.keel.decide(workflowId, { decision: 'approve', input: { plan: 'team' } })).rejects.toThrow(/customer: Invalid input: expected string, received undefined/);
      // Still waiting: the refused edits changed nothing.
      expect(await kit.keel.getPending(workflowId)).toMatchObject({ kind: 'tool_approval' });
      await kit.keel.decide(workflowId, { decision: 'approve', input: { customer: 'ACME', plan: 'team' }, by: 'ana' });
      return kit.keel.getResult(workflowId);
    });
    expect(result.status).toBe('completed');
    expect(await activityInputs(kit.client, result.workflowId, 'callTool')).toEqual([expect.objectContaining({ tool: 'create_account', input: { customer: 'ACME', plan: 'team' } })]);
  });

  test('reject: the call is not made, and the model reads the refusal with the note', async () => {
    const result = await kit.withWorker(async () => {
      const { workflowId } = await kit.keel.startRun(refundRun());
      await waitForPending(kit.keel, workflowId);
      await kit.keel.decide(workflowId, { decision: 'reject', note: 'over the refund limit', by: 'ana' });
      return kit.keel.getResult(workflowId);
    });
    expect(result.status).toBe('completed');
    expect(await activityInputs(kit.client, result.workflowId, 'callTool')).toEqual([]);
    const steps = (await activityInputs(kit.client, result.workflowId, 'agentStep')) as Array<{ newMessages: Array<{ error?: string }> }>;
    expect(steps[1]!.newMessages).toEqual([expect.objectContaining({ tool: 'refund', error: 'ana did not approve this call of refund: over the refund limit' })]);
    expect(result.tasks[0]).toMatchObject({ toolCalls: [{ step: 1, tool: 'refund', status: 'failed' }] });
  });

  test('no decision in time: the default (reject) is taken and said', async () => {
    const result = await kit.run(refundRun({ timeoutMs: 1_500 }));
    expect(result.escalations).toEqual([expect.objectContaining({ kind: 'tool_approval', decision: 'reject', decidedBy: 'timeout' })]);
    expect(await activityInputs(kit.client, result.workflowId, 'callTool')).toEqual([]);
  });

  test('a tool task in a plan waits the same way; refused, it fails with the note and the run recovers', async () => {
    const result = await kit.run({
      goal: 'refund order 7',
      tools: ['refund', 'notify'],
      approvals: { tools: ['refund'] },
      escalation: { timeoutMs: 1_500, defaultAction: 'reject' },
      plan: {
        tasks: [
          { id: 'pay', kind: 'tool', tool: 'refund', description: 'refund it', input: { orderId: 7 }, critical: false },
          { id: 'tell', kind: 'tool', tool: 'notify', description: 'tell the customer' },
        ],
        outputFrom: 'tell',
      },
      scenario: { model: {}, tools: { refund: [{ result: 'refunded' }], notify: [{ result: 'told' }] } },
    });
    expect(result.status).toBe('partial');
    expect(result.tasks.find((task) => task.id === 'pay')).toMatchObject({ status: 'skipped', error: { kind: 'semantic', message: expect.stringContaining('timeout did not approve this call of refund') } });
    expect((await activityInputs(kit.client, result.workflowId, 'runTask')).map((input) => (input as { task: { id: string } }).task.id)).toEqual(['tell']);
  });
});

test('the task\'s timeoutMs bounds the whole loop: the call in flight is cancelled and the loop ends timeout', async () => {
  const result = await kit.run(
    researchThenReply({ tools: ['slow_search'], timeoutMs: 1_500 }, [{ toolCalls: [{ tool: 'slow_search', input: { q: 'a' } }] }, { text: 'found' }], { slow_search: [{ result: 'late', delayMs: 20_000 }] }),
  );
  expect(result.status).toBe('partial');
  expect(result.tasks[0]).toMatchObject({ id: 'research', status: 'skipped', error: { kind: 'timeout', message: expect.stringContaining("the task's timeoutMs (1500 ms) passed before an answer") } });
});

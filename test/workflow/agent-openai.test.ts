// The agent loop with a real provider client: the official `openai` SDK against a loopback server
// that speaks its wire format, tool calls included. Each step offers the task's tools as OpenAI
// `tools`; the model's `tool_calls` run as activities (the parallel ones at once), and the calls and
// their results go back as assistant and `tool` messages. The worker's real tools run.
import { agentToolSystem } from '../../src/activities/prompts';
import { defaultDependencies } from '../../src/worker';
import { startFakeOpenAI, type FakeOpenAI, type FakeReply } from '../helpers/fake-openai';
import { activityInputs } from '../helpers/history';
import { createTestKit, type TestKit } from '../helpers/temporal';

const apiKey = 'sk-test-agent-0123456789';
let fake: FakeOpenAI;
let kit: TestKit;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  kit = await createTestKit({ dependencies: defaultDependencies({ home: '.keel/test/agent-openai', openai: { apiKey, baseURL: fake.baseURL } }, { cache: undefined }) });
});
afterAll(async () => {
  await kit.close();
  await fake.close();
});

type Message = { role: string; content: string | null; tool_call_id?: string; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }> };
type Body = { messages: Message[]; tools?: Array<{ type: string; function: { name: string; parameters: { properties?: Record<string, unknown> } } }>; parallel_tool_calls?: boolean; response_format?: unknown };
const isStep = (body: Record<string, unknown>) => (body as unknown as Body).messages[0]!.content === agentToolSystem;
const verify = (number: string, address?: string) => ({ name: 'verify_document', arguments: JSON.stringify({ customer: 'ACME', document: { type: 'passport', number, ...(address ? { address } : {}) } }) });

/** Each step's reply in turn (the last repeats); any other call (an evaluator) passes. */
function script(steps: FakeReply[]): void {
  let step = 0;
  fake.requests.length = 0;
  fake.respond = (body) => (isStep(body) ? { ...steps[Math.min(step++, steps.length - 1)]!, usage: { prompt_tokens: 200, completion_tokens: 30 } } : { content: '{"verdict":"pass"}' });
}
const stepBodies = () => fake.requests.filter((request) => isStep(request.body)).map((request) => request.body as unknown as Body);

test('native tool calls: a bad input is corrected, malformed arguments are re-asked, parallel calls run at once, and the answer ends the run', async () => {
  script([
    { toolCalls: [verify('X1')] },
    { toolCalls: [{ name: 'verify_document', arguments: '{"customer": "ACME", "document": {' }] },
    { toolCalls: [verify('P123456', '1 Harbour Way'), { name: 'create_account', arguments: '{"customer":"ACME","plan":"team"}' }] },
    { content: '{"verified": true, "account": "created"}' },
  ]);
  const result = await kit.run({ goal: "verify ACME's passport and open its account", tools: ['verify_document', 'create_account'], agent: { maxSteps: 6 }, budgetUsd: 1 });
  expect(result.status).toBe('completed');
  expect(JSON.parse(result.output!)).toEqual({ verified: true, account: 'created' });
  expect(result.tasks[0]).toMatchObject({
    kind: 'agent',
    steps: 4,
    toolCalls: [
      { step: 1, tool: 'verify_document', status: 'failed' },
      { step: 3, tool: 'verify_document', status: 'completed' },
      { step: 3, tool: 'create_account', status: 'completed' },
    ],
  });

  const bodies = stepBodies();
  expect(bodies).toHaveLength(4);
  // The tools are offered as OpenAI tools with their JSON Schemas, parallel calls allowed; no JSON-answer protocol.
  expect(bodies[0]!.tools!.map((tool) => tool.function.name)).toEqual(['verify_document', 'create_account']);
  expect(Object.keys(bodies[0]!.tools![0]!.function.parameters.properties!)).toEqual(['customer', 'document']);
  expect(bodies[0]!.parallel_tool_calls).toBe(true);
  expect(bodies[0]!.response_format).toBeUndefined();
  // Step 2 reads step 1's call and the tool's refusal of its input as an assistant tool call and its tool message.
  const second = bodies[1]!.messages;
  expect(second.find((message) => message.role === 'assistant')!.tool_calls![0]).toMatchObject({ id: 'call_1_0', function: { name: 'verify_document' } });
  expect(second.find((message) => message.role === 'tool')).toMatchObject({ tool_call_id: 'call_1_0', content: expect.stringContaining('missing a document number of 6+ letters/digits and an address') });
  // Step 3 is told why step 2 could not be read.
  expect(bodies[2]!.messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringMatching(/answer at step 2 could not be read: .*arguments of the call to verify_document are not valid JSON/) });
  // Step 4 reads both of step 3's calls and both results, each answering its own call.
  const fourth = bodies[3]!.messages;
  expect(fourth.filter((message) => message.role === 'assistant').at(-1)!.tool_calls!.map((call) => call.id)).toEqual(['call_3_0', 'call_3_1']);
  expect(fourth.filter((message) => message.role === 'tool').slice(-2).map((message) => message.tool_call_id)).toEqual(['call_3_0', 'call_3_1']);
  expect(fourth.filter((message) => message.role === 'tool').at(-1)!.content).toContain('acct_');

  const calls = await activityInputs(kit.client, result.workflowId, 'callTool');
  expect(calls.map((call) => (call as { tool: string }).tool)).toEqual(['verify_document', 'verify_document', 'create_account']);
  // The two calls of step 3 were scheduled in one workflow task, before either completed.
  const history = await kit.client.workflow.getHandle(result.workflowId).fetchHistory();
  const toolEvents = history.events!.flatMap((event) => {
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'callTool') return [{ kind: 'scheduled', id: Number(event.eventId) }];
    if (event.activityTaskCompletedEventAttributes) return [{ kind: 'completed', id: Number(event.eventId) }];
    return [];
  });
  const scheduled = toolEvents.filter((event) => event.kind === 'scheduled').map((event) => event.id);
  const completedBetween = toolEvents.some((event) => event.kind === 'completed' && event.id > scheduled[1]! && event.id < scheduled[2]!);
  expect(completedBetween).toBe(false);
});

test('a refusal ends the step as a semantic failure, which the model cannot be re-asked out of', async () => {
  script([{ refusal: "I can't help with verifying that document." }]);
  const result = await kit.run({ goal: "verify ACME's passport", tools: ['verify_document'], agent: { maxSteps: 6 }, budgetUsd: 1, escalation: { timeoutMs: 1_000, defaultAction: 'reject' } });
  // The critical task's semantic failure takes the recovery path: a replan (here the planner has no plan to give), then a human (none answers).
  expect(result.status).toBe('failed');
  expect(result.tasks[0]).toMatchObject({ kind: 'agent', status: 'failed', error: { kind: 'semantic', message: "step 1: openai: the model refused: I can't help with verifying that document." } });
  // Refused once: not retried and not re-asked.
  expect(stepBodies()).toHaveLength(1);
});

// The agent loop through the official `@anthropic-ai/sdk` client against a loopback server that
// speaks the Messages API: the tools offered as Anthropic tools, the model's tool_use blocks run as
// activities (two in one step at once), and the calls and results sent back as tool_use and
// tool_result blocks in alternating messages.
import { agentToolSystem } from '../../src/activities/prompts';
import { defaultDependencies } from '../../src/worker';
import { startFakeAnthropic, type FakeAnthropic, type FakeAnthropicReply } from '../helpers/fake-anthropic';
import { activityInputs } from '../helpers/history';
import { createTestKit, type TestKit } from '../helpers/temporal';

let fake: FakeAnthropic;
let kit: TestKit;
beforeAll(async () => {
  fake = await startFakeAnthropic();
  kit = await createTestKit({ dependencies: defaultDependencies({ home: '.keel/test/agent-anthropic', anthropic: { apiKey: 'sk-ant-test-0123456789', baseURL: fake.baseURL } }, { cache: undefined }) });
});
afterAll(async () => {
  await kit.close();
  await fake.close();
});

type Block = { type: string; id?: string; tool_use_id?: string; name?: string; text?: string; content?: string };
type Body = { system: string; messages: Array<{ role: string; content: Block[] }>; tools?: Array<{ name: string; input_schema: { properties?: Record<string, unknown> } }>; tool_choice?: unknown };
const isStep = (body: Record<string, unknown>) => (body as unknown as Body).system === agentToolSystem;

function script(steps: FakeAnthropicReply[]): void {
  let step = 0;
  fake.requests.length = 0;
  fake.respond = (body) => (isStep(body) ? steps[Math.min(step++, steps.length - 1)]! : { content: [{ type: 'tool_use', id: 'toolu_v', name: 'output', input: { verdict: 'pass' } }] });
}
const stepBodies = () => fake.requests.filter(isStep).map((body) => body as unknown as Body);

test('tool_use blocks: two calls in one step run as activities, and their results go back as tool_result blocks', async () => {
  script([
    {
      content: [
        { type: 'text', text: 'Checking the document and opening the account.' },
        { type: 'tool_use', id: 'toolu_01', name: 'verify_document', input: { customer: 'ACME', document: { type: 'passport', number: 'P123456', address: '1 Harbour Way' } } },
        { type: 'tool_use', id: 'toolu_02', name: 'create_account', input: { customer: 'ACME', plan: 'team' } },
      ],
    },
    { content: [{ type: 'text', text: 'ACME is verified and has a team account.' }] },
  ]);
  const result = await kit.run({ goal: "verify ACME's passport and open its account", tools: ['verify_document', 'create_account'], agent: {}, budgetUsd: 1 });
  expect(result.status).toBe('completed');
  expect(result.output).toBe('ACME is verified and has a team account.');
  expect(result.tasks[0]).toMatchObject({ kind: 'agent', steps: 2, toolCalls: [{ step: 1, tool: 'verify_document', status: 'completed' }, { step: 1, tool: 'create_account', status: 'completed' }] });

  const [first, second] = stepBodies();
  expect(first!.tools!.map((tool) => tool.name)).toEqual(['verify_document', 'create_account']);
  expect(Object.keys(first!.tools![1]!.input_schema.properties!)).toEqual(['customer', 'plan']);
  expect(first!.tool_choice).toBeUndefined();
  // user (the task), assistant (both calls), user (both results, each answering its call).
  expect(second!.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
  expect(second!.messages[1]!.content.map((block) => [block.type, block.id, block.name])).toEqual([
    ['tool_use', 'call_1_0', 'verify_document'],
    ['tool_use', 'call_1_1', 'create_account'],
  ]);
  expect(second!.messages[2]!.content.map((block) => [block.type, block.tool_use_id])).toEqual([
    ['tool_result', 'call_1_0'],
    ['tool_result', 'call_1_1'],
  ]);
  expect(second!.messages[2]!.content[1]!.content).toContain('"plan":"team"');
  const calls = await activityInputs(kit.client, result.workflowId, 'callTool');
  expect(calls).toHaveLength(2);
});

test('a tool_use whose input is not an object is malformed: the model is told why at the next step, and goes on', async () => {
  script([
    { content: [{ type: 'tool_use', id: 'toolu_01', name: 'create_account', input: 'ACME, team plan' }] },
    { content: [{ type: 'tool_use', id: 'toolu_02', name: 'create_account', input: { customer: 'ACME', plan: 'team' } }] },
    { content: [{ type: 'text', text: 'ACME has a team account.' }] },
  ]);
  const result = await kit.run({ goal: 'open an account for ACME', tools: ['create_account'], agent: {}, budgetUsd: 1 });
  expect(result.status).toBe('completed');
  expect(result.tasks[0]).toMatchObject({ steps: 3, toolCalls: [{ step: 2, tool: 'create_account', status: 'completed' }] });
  const second = stepBodies()[1]!;
  expect(second.messages.at(-1)!.content.at(-1)).toMatchObject({ type: 'text', text: expect.stringMatching(/answer at step 1 could not be read: .*the input of the call to create_account is not a JSON object/) });
});

test('a refusal (stop_reason refusal) fails the step as semantic, once', async () => {
  script([{ content: [], stopReason: 'refusal' }]);
  const result = await kit.run({ goal: "verify ACME's passport", tools: ['verify_document'], agent: {}, budgetUsd: 1, escalation: { timeoutMs: 1_000, defaultAction: 'reject' } });
  expect(result.status).toBe('failed');
  expect(result.tasks[0]).toMatchObject({ kind: 'agent', status: 'failed', error: { kind: 'semantic', message: 'step 1: anthropic: the model refused to answer' } });
  expect(stepBodies()).toHaveLength(1);
});

// The agent loop with a real provider client: the official `openai` SDK against a loopback server
// that speaks its wire format. Each step is a structured-output call; the worker's real tools run.
import { agentSystem } from '../../src/activities/prompts';
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

type Body = { messages: Array<{ role: string; content: string }>; response_format?: { type: string } };

test('steps through the OpenAI client: a tool call with bad input is corrected, a malformed step is re-asked, and the answer ends the run', async () => {
  const steps: FakeReply[] = [
    { content: JSON.stringify({ toolCalls: [{ tool: 'verify_document', input: { customer: 'ACME', document: { type: 'passport', number: 'X1' } } }] }) },
    { content: '{"toolCalls": "not a list"}' },
    { content: JSON.stringify({ toolCalls: [{ tool: 'verify_document', input: { customer: 'ACME', document: { type: 'passport', number: 'P123456', address: '1 Harbour Way' } } }] }) },
    { content: JSON.stringify({ answer: { verified: true } }) },
  ];
  let step = 0;
  fake.respond = (body) => {
    if ((body as unknown as Body).messages[0]!.content !== agentSystem) return { content: '{"verdict":"pass"}' };
    return { ...steps[Math.min(step++, steps.length - 1)]!, usage: { prompt_tokens: 200, completion_tokens: 30 } };
  };
  const result = await kit.run({ goal: 'verify ACME\'s passport', tools: ['verify_document'], agent: { maxSteps: 6 }, budgetUsd: 1 });
  expect(result.status).toBe('completed');
  expect(JSON.parse(result.output!)).toEqual({ verified: true });
  expect(result.tasks[0]).toMatchObject({ kind: 'agent', steps: 4, toolCalls: [{ step: 1, tool: 'verify_document', status: 'failed' }, { step: 3, tool: 'verify_document', status: 'completed' }] });
  expect(result.costUsd).toBeGreaterThan(0);
  // Every step asked for structured output; the second step read the tool's refusal of the input.
  const agentRequests = fake.requests.filter((request) => (request.body as unknown as Body).messages[0]!.content === agentSystem);
  expect(agentRequests).toHaveLength(4);
  expect((agentRequests[0]!.body as unknown as Body).response_format?.type).toBe('json_schema');
  expect((agentRequests[1]!.body as unknown as Body).messages[1]!.content).toContain('document for ACME is missing a document number of 6+ letters/digits and an address');
  expect((agentRequests[2]!.body as unknown as Body).messages[1]!.content).toContain("the step's toolCalls are not valid");
  const calls = await activityInputs(kit.client, result.workflowId, 'callTool');
  expect(calls).toHaveLength(2);
});

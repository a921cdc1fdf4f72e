// A run's live stream: lifecycle events from the run, model text deltas from the activities (the
// scripted model streams across its delayMs; OpenAI streams through the real SDK client against a
// loopback server), read with KeelClient.events. Real dev server, real worker.
import { KeelClient } from '../../src/client';
import type { StreamEvent } from '../../src/shared';
import { defaultDependencies } from '../../src/worker';
import { startFakeAnthropic, type FakeAnthropic } from '../helpers/fake-anthropic';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { llmTask, scriptedRequest } from '../helpers/scenarios';
import { createTestKit, type TestKit } from '../helpers/temporal';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit();
});
afterAll(async () => kit.close());

const draftText = 'Dear Ana, your refund of eighteen dollars for the broken mug is on its way and should arrive within five days.';
const streamed = () =>
  scriptedRequest({
    tasks: [llmTask('draft'), llmTask('polish', ['draft'])],
    model: { 'task:draft': [{ text: draftText, delayMs: 1_200 }], 'task:polish': [{ text: 'Polished.', delayMs: 300 }] },
  });

async function collect(keel: KeelClient, workflowId: string, options: { after?: number } = {}, until?: (event: StreamEvent) => boolean): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of keel.events(workflowId, options)) {
    events.push(event);
    if (until?.(event)) break;
  }
  return events;
}

test('order and completeness: every task event in order, the deltas concatenate to the output, run.ended last, offsets one by one', async () => {
  const { events, result } = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(streamed());
    const events = await collect(kit.keel, workflowId);
    return { events, result: await kit.keel.getResult(workflowId) };
  });
  expect(result.status).toBe('completed');
  expect(events.map((event) => event.offset)).toEqual(events.map((_, index) => index));
  const types = events.map((event) => event.type);
  expect(types[0]).toBe('run.started');
  expect(types.at(-1)).toBe('run.ended');
  expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'completed' });
  const at = (type: string, taskId?: string) => events.findIndex((event) => event.type === type && (taskId === undefined || ('taskId' in event && event.taskId === taskId)));
  expect(at('plan.proposed')).toBeLessThan(at('plan.accepted'));
  expect(at('plan.accepted')).toBeLessThan(at('task.started', 'draft'));
  const draftDeltas = events.filter((event): event is Extract<StreamEvent, { type: 'model.delta' }> => event.type === 'model.delta' && event.key === 'task:draft');
  // Streamed, not sent whole: several batches, each after the task started and before it completed.
  expect(draftDeltas.length).toBeGreaterThan(2);
  expect(draftDeltas.map((delta) => delta.text).join('')).toBe(draftText);
  expect(draftDeltas.every((delta) => delta.attempt === 1 && delta.taskId === 'draft')).toBe(true);
  expect(at('task.started', 'draft')).toBeLessThan(events.indexOf(draftDeltas[0]!));
  expect(events.indexOf(draftDeltas.at(-1)!)).toBeLessThan(at('task.completed', 'draft'));
  expect(at('task.completed', 'draft')).toBeLessThan(at('task.started', 'polish'));
  // The polish call streamed too; the planner's and the synthesis' scripted answers (no delayMs) did
  // not stream, and add nothing: their answers are in the result.
  expect(events.filter((event) => event.type === 'model.delta' && event.key === 'task:polish').map((event) => (event as { text: string }).text).join('')).toBe('Polished.');
  expect(events.filter((event) => event.type === 'model.delta' && !event.key.startsWith('task:'))).toEqual([]);
});

test('resume: a reader that stops and comes back after its last offset gets every later event once', async () => {
  const { whole, first, rest } = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(streamed());
    // Stop mid-stream, at the third delta, as a dropped connection would.
    let deltas = 0;
    const first = await collect(kit.keel, workflowId, {}, (event) => event.type === 'model.delta' && ++deltas === 3);
    const rest = await collect(kit.keel, workflowId, { after: first.at(-1)!.offset });
    const whole = await collect(kit.keel, workflowId);
    return { whole, first, rest };
  });
  expect(first.at(-1)!.type).toBe('model.delta');
  expect([...first, ...rest]).toEqual(whole);
  expect(whole.at(-1)!.type).toBe('run.ended');
});

test('a failed attempt is followed by task.retrying with its failure, before the next attempt streams', async () => {
  const request = scriptedRequest({
    tasks: [llmTask('draft')],
    model: { 'task:draft': [{ fail: 'transient', message: 'the provider hiccuped' }, { text: draftText, delayMs: 500 }] },
  });
  const events = await kit.withWorker(async () => collect(kit.keel, (await kit.keel.startRun(request)).workflowId));
  const retrying = events.findIndex((event) => event.type === 'task.retrying');
  expect(events[retrying]).toMatchObject({ key: 'task:draft', taskId: 'draft', attempt: 2, failure: 'transient: the provider hiccuped' });
  const deltas = events.filter((event) => event.type === 'model.delta' && event.key === 'task:draft');
  expect(deltas.every((delta) => delta.offset > events[retrying]!.offset && (delta as { attempt: number }).attempt === 2)).toBe(true);
  expect(deltas.map((delta) => (delta as { text: string }).text).join('')).toBe(draftText);
});

test('an unknown run is refused, not waited on', async () => {
  await expect(collect(kit.keel, 'no-such-run-for-events')).rejects.toThrow(/no run with id "no-such-run-for-events"/);
});

describe('OpenAI streaming through the real SDK client', () => {
  let openai: FakeOpenAI;
  let streamKit: TestKit;
  beforeAll(async () => {
    openai = await startFakeOpenAI();
    streamKit = await createTestKit({
      dependencies: defaultDependencies({ home: '.keel/test/stream-openai', openai: { apiKey: 'sk-test-stream-0123456789', baseURL: openai.baseURL } }, { cache: undefined }),
    });
  });
  afterAll(async () => {
    await streamKit?.close();
    await openai?.close();
  });

  test('text and tool-call deltas arrive as the provider sends them; a stream cut mid-answer is retried, and the retry is marked', async () => {
    const args = JSON.stringify({ customer: 'ACME', document: { type: 'passport', number: 'P123456', address: '1 Harbour Way' } });
    const answer = 'ACME is verified: passport P123456 matches.';
    let calls = 0;
    const streamedBodies: boolean[] = [];
    openai.respond = (body) => {
      streamedBodies.push(body.stream === true);
      calls += 1;
      if (calls === 1) return { toolCalls: [{ name: 'verify_document', arguments: args }], chunkDelayMs: 30 };
      if (calls === 2) return { content: 'ACME is verified: passport P123456 is', chunkDelayMs: 30, cutAfterChunks: 4 };
      return { content: answer, chunkDelayMs: 30 };
    };
    const request = { goal: "verify ACME's passport", tools: ['verify_document'], agent: { maxSteps: 3 }, budgetUsd: 1 };
    const { events, result } = await streamKit.withWorker(async () => {
      const { workflowId } = await streamKit.keel.startRun(request as never);
      const events = await collect(streamKit.keel, workflowId);
      return { events, result: await streamKit.keel.getResult(workflowId) };
    });
    expect(result).toMatchObject({ status: 'completed', output: answer });
    expect(streamedBodies.every(Boolean)).toBe(true);
    const deltas = events.filter((event): event is Extract<StreamEvent, { type: 'model.delta' }> => event.type === 'model.delta');
    const toolCall = deltas.flatMap((delta) => delta.toolCalls ?? []);
    expect(toolCall[0]).toMatchObject({ index: 0, name: 'verify_document' });
    expect(toolCall.map((part) => part.arguments).join('')).toBe(args);
    // The cut attempt's words, then task.retrying, then the whole answer from attempt 2.
    const retrying = events.findIndex((event) => event.type === 'task.retrying');
    expect(retrying).toBeGreaterThan(-1);
    expect(events[retrying]).toMatchObject({ key: 'step:agent', taskId: 'agent', attempt: 2, failure: expect.stringMatching(/^transient: /) });
    const before = deltas.filter((delta) => delta.offset < events[retrying]!.offset && delta.key === 'step:agent' && delta.text);
    const after = deltas.filter((delta) => delta.offset > events[retrying]!.offset && delta.key === 'step:agent');
    expect(before.at(-1)!.attempt).toBe(1);
    expect(after.every((delta) => delta.attempt === 2)).toBe(true);
    expect(after.map((delta) => delta.text).join('')).toBe(answer);
  });
});

describe('Anthropic streaming through the real SDK client', () => {
  let anthropic: FakeAnthropic;
  let streamKit: TestKit;
  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    streamKit = await createTestKit({
      dependencies: defaultDependencies({ home: '.keel/test/stream-anthropic', anthropic: { apiKey: 'sk-ant-stream-0123456789', baseURL: anthropic.baseURL } }, { cache: undefined }),
    });
  });
  afterAll(async () => {
    await streamKit?.close();
    await anthropic?.close();
  });

  test('text and tool_use input deltas arrive as the API streams them; an error event mid-stream is a transient failure, retried and marked', async () => {
    const input = { customer: 'ACME', document: { type: 'passport', number: 'P123456', address: '1 Harbour Way' } };
    const answer = 'ACME is verified: passport P123456 matches.';
    let calls = 0;
    const streamedBodies: boolean[] = [];
    anthropic.respond = (body) => {
      streamedBodies.push(body.stream === true);
      calls += 1;
      if (calls === 1) return { content: [{ type: 'text', text: 'Checking the passport.' }, { type: 'tool_use', id: 'toolu_01', name: 'verify_document', input }], chunkDelayMs: 30 };
      if (calls === 2) return { content: [{ type: 'text', text: answer }], chunkDelayMs: 30, errorAfterEvents: 4 };
      return { content: [{ type: 'text', text: answer }], chunkDelayMs: 30 };
    };
    const { events, result } = await streamKit.withWorker(async () => {
      const { workflowId } = await streamKit.keel.startRun({ goal: "verify ACME's passport", tools: ['verify_document'], agent: { maxSteps: 3 }, budgetUsd: 1 });
      const events = await collect(streamKit.keel, workflowId);
      return { events, result: await streamKit.keel.getResult(workflowId) };
    });
    expect(result).toMatchObject({ status: 'completed', output: answer });
    expect(streamedBodies.every(Boolean)).toBe(true);
    const deltas = events.filter((event): event is Extract<StreamEvent, { type: 'model.delta' }> => event.type === 'model.delta' && event.key === 'step:agent');
    const firstStep = deltas.filter((delta) => delta.offset < events.find((event) => event.type === 'step' && event.step === 2)!.offset);
    expect(firstStep.map((delta) => delta.text).join('')).toBe('Checking the passport.');
    const toolCall = firstStep.flatMap((delta) => delta.toolCalls ?? []);
    expect(toolCall[0]).toMatchObject({ index: 0, name: 'verify_document' });
    expect(JSON.parse(toolCall.map((part) => part.arguments).join(''))).toEqual(input);
    const retrying = events.find((event) => event.type === 'task.retrying');
    expect(retrying).toMatchObject({ key: 'step:agent', attempt: 2, failure: expect.stringMatching(/^(transient|rate_limit): .*Overloaded/i) });
    const after = deltas.filter((delta) => delta.offset > retrying!.offset);
    expect(after.every((delta) => delta.attempt === 2)).toBe(true);
    expect(after.map((delta) => delta.text).join('')).toBe(answer);
  });
});

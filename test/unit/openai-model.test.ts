// The real `openai` client against a loopback server: structured output, usage, and every fault class.
import { z } from 'zod';
import { parseStructured } from '../../src/activities/create-activities';
import { OpenAIModel } from '../../src/llm/openai-model';
import type { ModelRequest } from '../../src/llm/model-client';
import { KeelError } from '../../src/shared';
import { startFakeOpenAI, type FakeOpenAI, type FakeReply } from '../helpers/fake-openai';

const apiKey = 'sk-test-THISKEYMUSTNEVERLEAK-1234567890';
let fake: FakeOpenAI;
let model: OpenAIModel;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  model = new OpenAIModel({ apiKey, baseURL: fake.baseURL });
});
afterAll(async () => fake.close());

const request: ModelRequest = { key: 'plan', tier: 'large', model: 'gpt-4o', system: 'plan it', prompt: 'goal', maxOutputTokens: 256, jsonSchema: { type: 'object' } };

async function failureOf(reply: FakeReply): Promise<KeelError> {
  fake.replies = [reply];
  const before = fake.requests.length;
  const error = await model.generate(request).catch((caught: unknown) => caught);
  expect(fake.requests.length - before).toBe(1); // the SDK's own retries are off
  expect(error).toBeInstanceOf(KeelError);
  expect((error as Error).message).not.toContain('THISKEYMUSTNEVERLEAK');
  return error as KeelError;
}

test('a completion: structured output requested with the JSON schema, the output cap, usage and model read back', async () => {
  fake.replies = [{ content: '{"tasks":[]}', usage: { prompt_tokens: 321, completion_tokens: 12 }, model: 'gpt-4o-2024-08-06' }];
  const response = await model.generate(request);
  expect(response).toEqual({ text: '{"tasks":[]}', model: 'gpt-4o-2024-08-06', usage: { inputTokens: 321, outputTokens: 12 } });
  const sent = fake.requests.at(-1)!;
  expect(sent.path).toBe('/v1/chat/completions');
  expect(sent.authorization).toBe(`Bearer ${apiKey}`);
  expect(sent.body).toMatchObject({
    model: 'gpt-4o',
    temperature: 0,
    max_tokens: 256,
    response_format: { type: 'json_schema', json_schema: { name: 'output', schema: { type: 'object' } } },
    messages: [{ role: 'system', content: 'plan it' }, { role: 'user', content: 'goal' }],
  });
});

test.each([
  [{ status: 429, headers: { 'retry-after': '3' }, error: { message: 'Rate limit reached' } }, 'rate_limit', 3_000],
  [{ status: 429, headers: { 'retry-after-ms': '1500' }, error: { message: 'Rate limit reached' } }, 'rate_limit', 1_500],
  [{ status: 429, error: { message: 'Rate limit reached' } }, 'rate_limit', undefined],
  [{ status: 429, error: { message: 'You exceeded your current quota', code: 'insufficient_quota' } }, 'budget', undefined],
  [{ status: 402, error: { message: 'payment required' } }, 'budget', undefined],
  [{ status: 503, error: { message: 'overloaded' } }, 'transient', undefined],
  [{ status: 500, error: { message: 'server error' } }, 'transient', undefined],
  [{ status: 408, error: { message: 'request timeout' } }, 'transient', undefined],
  [{ status: 400, error: { message: "This model's maximum context length is 128000 tokens", code: 'context_length_exceeded' } }, 'context', undefined],
  [{ status: 400, error: { message: 'Invalid value for temperature' } }, 'permanent', undefined],
  [{ status: 404, error: { message: 'The model does not exist' } }, 'permanent', undefined],
  [{ status: 401, error: { message: `Incorrect API key provided: ${apiKey}` } }, 'permanent', undefined],
] as const)('HTTP %j is %s', async (reply, kind, retryAfterMs) => {
  const error = await failureOf(reply);
  expect(error.kind).toBe(kind);
  expect(error.options.retryAfterMs).toBe(retryAfterMs);
  expect(error.message).toMatch(new RegExp(`^openai: HTTP ${reply.status}: `));
});

test('an unreachable server is transient, and says where', async () => {
  const closed = await startFakeOpenAI();
  await closed.close();
  const error = await new OpenAIModel({ apiKey, baseURL: closed.baseURL }).generate(request).catch((caught: unknown) => caught);
  expect(error).toMatchObject({ kind: 'transient', message: expect.stringMatching(/^openai: connection failed: /) });
});

test.each([
  ['a refusal', { refusal: 'I can’t help with that.' }, 'semantic', /^openai: the model refused: I can’t help with that\.$/],
  ['a dropped connection', { reset: true }, 'transient', /^openai: connection failed: /],
  ['a body that is not JSON', { rawBody: '<html>502 Bad Gateway</html>' }, 'transient', /^openai: unreadable response: /],
] as const)('%s is %s', async (_what, reply, kind, message) => {
  const error = await failureOf(reply);
  expect(error.kind).toBe(kind);
  expect(error.message).toMatch(message);
});

test('a server slower than the client timeout is a timeout (retried by Temporal)', async () => {
  fake.replies = [{ content: 'late', delayMs: 1_000 }];
  const impatient = new OpenAIModel({ apiKey, baseURL: fake.baseURL, timeoutMs: 200 });
  const error = await impatient.generate(request).catch((caught: unknown) => caught);
  expect(error).toMatchObject({ kind: 'timeout', message: 'openai: timed out: no answer within 200 ms' });
});

test('an answer that is not JSON, or not the schema, is malformed at the activity, with the reason to feed back', () => {
  const schema = z.object({ label: z.string() });
  expect(() => parseStructured('Sure! {label: invoice', schema, 'answer')).toThrow(expect.objectContaining({ kind: 'malformed', message: expect.stringMatching(/^the answer is not valid JSON/) }));
  expect(() => parseStructured('{"label": 3}', schema, 'answer')).toThrow(expect.objectContaining({ kind: 'malformed', message: expect.stringMatching(/^the answer does not match the schema: label: /) }));
});

test('the key check at start: accepted, refused (401, key redacted), or the provider cannot be asked', async () => {
  expect(await model.checkKey()).toEqual({ ok: true });
  fake.refuseKey = true;
  const refused = await model.checkKey();
  fake.refuseKey = false;
  expect(refused).toMatchObject({ ok: false, refused: true, message: expect.stringMatching(/^HTTP 401: /) });
  expect(JSON.stringify(refused)).not.toContain('THISKEYMUSTNEVERLEAK');
  const closed = await startFakeOpenAI();
  await closed.close();
  expect(await new OpenAIModel({ apiKey, baseURL: closed.baseURL }).checkKey()).toMatchObject({ ok: false, refused: false });
});

describe('streamed calls', () => {
  const streamedRequest = (deltas: unknown[]): ModelRequest => ({ ...request, jsonSchema: undefined, onDelta: (delta) => deltas.push(delta) });

  test('an event stream: each piece as it comes, the whole answer returned', async () => {
    fake.replies = [{ content: 'one two three', usage: { prompt_tokens: 7, completion_tokens: 3 }, chunkDelayMs: 1 }];
    const deltas: unknown[] = [];
    const response = await model.generate(streamedRequest(deltas));
    expect(response).toMatchObject({ text: 'one two three', usage: { inputTokens: 7, outputTokens: 3 } });
    expect(deltas.length).toBeGreaterThan(1);
    expect(fake.requests.at(-1)!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  test('a compatible server that ignores stream and answers whole is read whole: the answer, its tool calls and usage, no deltas', async () => {
    fake.replies = [{ ignoresStream: true, content: 'all at once', usage: { prompt_tokens: 11, completion_tokens: 4 }, model: 'local-model' }];
    const deltas: unknown[] = [];
    expect(await model.generate(streamedRequest(deltas))).toEqual({ text: 'all at once', model: 'local-model', usage: { inputTokens: 11, outputTokens: 4 } });
    fake.replies = [{ ignoresStream: true, toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' }] }];
    expect((await model.generate(streamedRequest(deltas))).toolCalls).toEqual([{ id: 'call_1', tool: 'lookup', input: { q: 'x' } }]);
    fake.replies = [{ ignoresStream: true, refusal: 'no' }];
    await expect(model.generate(streamedRequest(deltas))).rejects.toMatchObject({ kind: 'semantic' });
    expect(deltas).toEqual([]);
    expect(fake.requests.at(-1)!.body).toMatchObject({ stream: true });
  });

  test('a body that is neither an event stream nor a completion is still transient, and an error status keeps its class', async () => {
    fake.replies = [{ headers: { 'content-type': 'text/html' }, rawBody: '<html>502 Bad Gateway</html>' }];
    await expect(model.generate(streamedRequest([]))).rejects.toMatchObject({ kind: 'transient', message: expect.stringMatching(/^openai: unreadable response: /) });
    fake.replies = [{ status: 429, headers: { 'retry-after': '2' }, error: { message: 'Rate limit reached' } }];
    await expect(model.generate(streamedRequest([]))).rejects.toMatchObject({ kind: 'rate_limit', options: { retryAfterMs: 2_000 } });
  });
});

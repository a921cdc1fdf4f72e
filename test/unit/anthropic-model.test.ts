// The real `@anthropic-ai/sdk` client against a loopback server speaking the Messages API.
import { createServer, type Server } from 'node:http';
import { AnthropicModel } from '../../src/llm/anthropic-model';
import { KeelError } from '../../src/shared';

const apiKey = 'sk-ant-test-NEVERLEAK-0123456789';
let server: Server;
let baseURL = '';
const requests: Array<{ path: string; key: string | undefined; body: Record<string, unknown> }> = [];
let reply: { status: number; body: unknown; headers?: Record<string, string> } = { status: 200, body: {} };

beforeAll(async () => {
  server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => (raw += chunk));
    request.on('end', () => {
      // SDK 1.x sends the key as a bearer token; older versions used x-api-key.
      const key = (request.headers['x-api-key'] as string | undefined) ?? request.headers.authorization?.replace(/^Bearer /, '');
      requests.push({ path: request.url ?? '', key, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} });
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      response.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  baseURL = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const message = (content: unknown[]) => ({
  id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-0-20250514', content, stop_reason: 'end_turn', stop_sequence: null,
  usage: { input_tokens: 210, output_tokens: 33 },
});
const error = (type: string, text: string) => ({ type: 'error', error: { type, message: text } });

test('structured output goes through a forced tool whose input is the answer', async () => {
  reply = { status: 200, body: message([{ type: 'tool_use', id: 'tu_1', name: 'output', input: { tasks: [] } }]) };
  const model = new AnthropicModel({ apiKey, baseURL });
  const response = await model.generate({ key: 'plan', tier: 'large', model: 'claude-sonnet-4-0', system: 'plan it', prompt: 'goal', maxOutputTokens: 500, jsonSchema: { type: 'object' } });
  expect(response).toEqual({ text: '{"tasks":[]}', model: 'claude-sonnet-4-0-20250514', usage: { inputTokens: 210, outputTokens: 33 } });
  const sent = requests.at(-1)!;
  expect(sent.path).toBe('/v1/messages');
  expect(sent.key).toBe(apiKey);
  expect(sent.body).toMatchObject({
    model: 'claude-sonnet-4-0',
    max_tokens: 500,
    system: 'plan it',
    tools: [{ name: 'output', input_schema: { type: 'object' } }],
    tool_choice: { type: 'tool', name: 'output' },
  });
});

test('plain text answers are joined text blocks', async () => {
  reply = { status: 200, body: message([{ type: 'text', text: 'forty-' }, { type: 'text', text: 'two' }]) };
  const response = await new AnthropicModel({ apiKey, baseURL }).generate({ key: 'task:t1', tier: 'small', model: 'claude-3-5-haiku-latest', system: 's', prompt: 'p' });
  expect(response.text).toBe('forty-two');
});

test.each([
  [429, error('rate_limit_error', 'Number of requests has exceeded your rate limit'), { 'retry-after': '7' }, 'rate_limit', 7_000],
  [529, error('overloaded_error', 'Overloaded'), {}, 'transient', undefined],
  [400, error('invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum'), {}, 'context', undefined],
  [400, error('invalid_request_error', 'max_tokens: must be positive'), {}, 'permanent', undefined],
  [401, error('authentication_error', `invalid x-api-key ${apiKey}`), {}, 'permanent', undefined],
] as const)('HTTP %i is classified', async (status, body, headers, kind, retryAfterMs) => {
  reply = { status, body, headers };
  const before = requests.length;
  const failure = (await new AnthropicModel({ apiKey, baseURL }).generate({ key: 'plan', tier: 'small', model: 'claude-3-5-haiku-latest', system: 's', prompt: 'p' }).catch((caught: unknown) => caught)) as KeelError;
  expect(requests.length - before).toBe(1); // no SDK retries
  expect(failure).toBeInstanceOf(KeelError);
  expect(failure.kind).toBe(kind);
  expect(failure.options.retryAfterMs).toBe(retryAfterMs);
  expect(failure.message).toMatch(new RegExp(`^anthropic: HTTP ${status}: `));
  expect(failure.message).not.toContain('NEVERLEAK');
});

test('a refusal is semantic: a replan, not a retry', async () => {
  reply = { status: 200, body: { ...message([]), stop_reason: 'refusal' } };
  const refused = (await new AnthropicModel({ apiKey, baseURL }).generate({ key: 'task:t1', tier: 'small', model: 'claude-3-5-haiku-latest', system: 's', prompt: 'p' }).catch((caught: unknown) => caught)) as KeelError;
  expect(refused).toMatchObject({ kind: 'semantic', message: 'anthropic: the model refused to answer' });
});

test('the key check at start: accepted, or refused with 401 (key redacted)', async () => {
  const model = new AnthropicModel({ apiKey, baseURL });
  reply = { status: 200, body: { data: [], has_more: false, first_id: null, last_id: null } };
  expect(await model.checkKey()).toEqual({ ok: true });
  expect(requests.at(-1)!.path).toMatch(/^\/v1\/models/);
  reply = { status: 401, body: error('authentication_error', `invalid x-api-key ${apiKey}`) };
  const refused = await model.checkKey();
  expect(refused).toMatchObject({ ok: false, refused: true, message: expect.stringMatching(/^HTTP 401: /) });
  expect(JSON.stringify(refused)).not.toContain('NEVERLEAK');
});

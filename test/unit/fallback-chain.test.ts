// Circuit breakers and the fallback chain, with real provider clients against loopback servers.
import { CircuitBreaker } from '../../src/llm/circuit-breaker';
import { FallbackChainModel } from '../../src/llm/fallback-chain';
import type { ModelRequest } from '../../src/llm/model-client';
import { OpenAIModel } from '../../src/llm/openai-model';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';

test('closed → open after N failures → half-open after the reset time → closed after M successes', () => {
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 3, resetMs: 1_000, halfOpenSuccesses: 2, now: () => now });
  breaker.recordFailure();
  breaker.recordFailure();
  breaker.recordSuccess(); // a success in between resets the count
  breaker.recordFailure();
  breaker.recordFailure();
  expect(breaker.state).toBe('closed');
  breaker.recordFailure();
  expect(breaker.state).toBe('open');
  expect(breaker.allows()).toBe(false);
  now = 999;
  expect(breaker.allows()).toBe(false);
  now = 1_000;
  expect(breaker.state).toBe('half_open');
  breaker.recordFailure(); // a failed trial opens it again
  expect(breaker.state).toBe('open');
  now = 2_000;
  breaker.recordSuccess();
  expect(breaker.state).toBe('half_open');
  breaker.recordSuccess();
  expect(breaker.state).toBe('closed');
});

describe('the chain', () => {
  let primary: FakeOpenAI;
  let secondary: FakeOpenAI;
  beforeAll(async () => {
    [primary, secondary] = [await startFakeOpenAI(), await startFakeOpenAI()];
  });
  afterAll(async () => {
    await primary.close();
    await secondary.close();
  });
  const request: ModelRequest = { key: 'task:t1', tier: 'small', model: 'gpt-4o-mini', system: 's', prompt: 'p' };
  const chain = (now: () => number) =>
    new FallbackChainModel(
      [new OpenAIModel({ apiKey: 'sk-test-aaaaaaaa', baseURL: primary.baseURL, name: 'primary' }), new OpenAIModel({ apiKey: 'sk-test-bbbbbbbb', baseURL: secondary.baseURL, name: 'secondary' })],
      { failureThreshold: 2, resetMs: 5_000, halfOpenSuccesses: 1, now },
    );

  test('a failing provider falls through to the next; its open breaker is then skipped without a call', async () => {
    let now = 0;
    const models = chain(() => now);
    primary.replies = [{ status: 503, error: { message: 'down' } }];
    secondary.replies = [{ content: 'from secondary' }];
    expect((await models.generate(request)).text).toBe('from secondary');
    expect((await models.generate(request)).text).toBe('from secondary');
    expect(models.breakers).toEqual({ primary: 'open', secondary: 'closed' });
    const callsBefore = primary.requests.length;
    expect((await models.generate(request)).text).toBe('from secondary');
    expect(primary.requests.length).toBe(callsBefore); // skipped at once
    now = 5_000; // reset time passed: one trial call goes to the primary again
    primary.replies = [{ content: 'primary is back' }];
    expect((await models.generate(request)).text).toBe('primary is back');
    expect(models.breakers.primary).toBe('closed');
  });

  test('when every provider fails, the call fails transient with every error listed', async () => {
    const models = chain(() => 0);
    primary.replies = [{ status: 500, error: { message: 'boom' } }];
    secondary.replies = [{ status: 429, error: { message: 'slow down' } }];
    const error = await models.generate(request).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'transient' });
    expect((error as Error).message).toBe(
      'every model in the chain failed: primary gpt-4o-mini: primary: HTTP 500: boom; secondary gpt-4o-mini: secondary: HTTP 429: slow down',
    );
  });

  test('a request problem (context length) is not the provider’s fault: no fallback, no breaker count', async () => {
    const models = chain(() => 0);
    primary.replies = [{ status: 400, error: { message: 'maximum context length exceeded', code: 'context_length_exceeded' } }];
    const secondaryCalls = secondary.requests.length;
    await expect(models.generate(request)).rejects.toMatchObject({ kind: 'context' });
    expect(secondary.requests.length).toBe(secondaryCalls);
    expect(models.breakers.primary).toBe('closed');
  });
});

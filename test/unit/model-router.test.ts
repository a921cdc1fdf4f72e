// Routing, circuit breakers, fallback, caps, prices and the in-process cache, with real provider
// clients against loopback servers.
import { CircuitBreaker } from '../../src/llm/circuit-breaker';
import { OpenAIModel } from '../../src/llm/openai-model';
import { costOf, defaultPrices } from '../../src/llm/pricing';
import { MemoryResponseCache } from '../../src/llm/response-cache';
import { ModelRouter, type RoutedRequest, type Routing } from '../../src/llm/router';
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

describe('the router', () => {
  let primary: FakeOpenAI;
  let secondary: FakeOpenAI;
  beforeAll(async () => {
    [primary, secondary] = [await startFakeOpenAI(), await startFakeOpenAI()];
  });
  afterAll(async () => {
    await primary.close();
    await secondary.close();
  });
  const routing: Routing = {
    small: [
      { provider: 'primary', model: 'gpt-4o-mini' },
      { provider: 'secondary', model: 'claude-3-5-haiku-latest' },
    ],
    medium: [{ provider: 'primary', model: 'gpt-4.1-mini' }],
    large: [
      { provider: 'primary', model: 'gpt-4o' },
      { provider: 'secondary', model: 'gpt-4o-mini' },
    ],
  };
  const request: RoutedRequest = { key: 'task:t1', tier: 'small', system: 's', prompt: 'p', reservedUsd: 1, cacheable: false };
  const providers = () => [
    new OpenAIModel({ apiKey: 'sk-test-aaaaaaaa', baseURL: primary.baseURL, name: 'primary' }),
    new OpenAIModel({ apiKey: 'sk-test-bbbbbbbb', baseURL: secondary.baseURL, name: 'secondary' }),
  ];
  const router = (now: () => number, options: Partial<ConstructorParameters<typeof ModelRouter>[0]> = {}) =>
    new ModelRouter({ providers: providers(), routing, breaker: { failureThreshold: 2, resetMs: 5_000, halfOpenSuccesses: 1, now }, ...options });
  const states = (models: ModelRouter) => Object.fromEntries(models.breakers().map((breaker) => [`${breaker.provider}/${breaker.model}`, breaker.state]));

  test('each tier goes to its own chain, and the answer says which provider and model served it', async () => {
    primary.replies = [{ content: 'hello', usage: { prompt_tokens: 1_000, completion_tokens: 500 } }];
    const models = router(() => 0);
    const small = await models.generate(request);
    expect(small).toMatchObject({ text: 'hello', provider: 'primary', model: 'gpt-4o-mini', passedOver: [] });
    expect(small.costUsd).toBeCloseTo((1_000 * 0.15 + 500 * 0.6) / 1e6, 12); // the price table
    await models.generate({ ...request, tier: 'large' });
    expect(primary.requests.slice(-2).map((sent) => sent.body.model)).toEqual(['gpt-4o-mini', 'gpt-4o']);
  });

  test('prices from configuration replace the table', async () => {
    primary.replies = [{ content: 'x', usage: { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 } }];
    const models = router(() => 0, { prices: { ...defaultPrices, 'gpt-4o-mini': { inputPerMillion: 1, outputPerMillion: 2 } } });
    expect((await models.generate({ ...request, reservedUsd: 100 })).costUsd).toBe(3);
    expect(costOf('gpt-4o-mini', { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBeCloseTo(0.75, 10);
  });

  test('a failing member falls through to the next; its open breaker is then skipped without a call; half-open, then closed', async () => {
    let now = 0;
    const models = router(() => now);
    primary.replies = [{ status: 503, error: { message: 'down' } }];
    secondary.replies = [{ content: 'from secondary' }];
    const first = await models.generate(request);
    expect(first).toMatchObject({ text: 'from secondary', provider: 'secondary', model: 'claude-3-5-haiku-latest' });
    expect(first.passedOver).toEqual(['primary gpt-4o-mini: primary: HTTP 503: down']);
    expect((await models.generate(request)).text).toBe('from secondary');
    expect(states(models)).toMatchObject({ 'primary/gpt-4o-mini': 'open', 'secondary/claude-3-5-haiku-latest': 'closed', 'primary/gpt-4o': 'closed' });
    const callsBefore = primary.requests.length;
    expect((await models.generate(request)).passedOver).toEqual(['primary gpt-4o-mini: circuit open']);
    expect(primary.requests.length).toBe(callsBefore); // skipped at once
    now = 5_000; // reset time passed: one trial call goes to the primary again
    expect(states(models)['primary/gpt-4o-mini']).toBe('half_open');
    primary.replies = [{ content: 'primary is back' }];
    expect((await models.generate(request)).text).toBe('primary is back');
    expect(states(models)['primary/gpt-4o-mini']).toBe('closed');
  });

  test('when every member fails, the call fails transient with every error listed', async () => {
    const models = router(() => 0);
    primary.replies = [{ status: 500, error: { message: 'boom' } }];
    secondary.replies = [{ status: 429, error: { message: 'slow down' } }];
    const error = await models.generate(request).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'transient' });
    expect((error as Error).message).toBe(
      'every model in the small chain failed: primary gpt-4o-mini: primary: HTTP 500: boom; secondary claude-3-5-haiku-latest: secondary: HTTP 429: slow down',
    );
  });

  test('a chain that fails one way everywhere fails that way: 429s stay rate_limit with the shortest Retry-After', async () => {
    const models = router(() => 0);
    primary.replies = [{ status: 429, headers: { 'retry-after': '7' }, error: { message: 'slow down' } }];
    secondary.replies = [{ status: 429, headers: { 'retry-after': '3' }, error: { message: 'slow down' } }];
    await expect(models.generate(request)).rejects.toMatchObject({ kind: 'rate_limit', options: { retryAfterMs: 3_000 } });
  });

  test('a request problem (context length) is not the provider’s fault: no fallback, no breaker count', async () => {
    const models = router(() => 0);
    primary.replies = [{ status: 400, error: { message: 'maximum context length exceeded', code: 'context_length_exceeded' } }];
    const secondaryCalls = secondary.requests.length;
    await expect(models.generate(request)).rejects.toMatchObject({ kind: 'context' });
    expect(secondary.requests.length).toBe(secondaryCalls);
    expect(states(models)['primary/gpt-4o-mini']).toBe('closed');
  });

  test('the output-token cap is derived per model from what the call may spend; a member it cannot pay for is passed over', async () => {
    primary.replies = [{ content: 'ok' }];
    secondary.replies = [{ content: 'cheap' }];
    const models = router(() => 0);
    // $0.0001 at gpt-4o ($10/M out) is 10 tokens: too few. At gpt-4o-mini ($0.6/M) it is 166.
    const answer = await models.generate({ ...request, tier: 'large', reservedUsd: 0.0001 });
    expect(answer).toMatchObject({ text: 'cheap', provider: 'secondary' });
    expect(answer.passedOver[0]).toMatch(/^primary gpt-4o: the \$0\.000100 this call may spend cannot pay for it$/);
    expect(secondary.requests.at(-1)!.body.max_tokens).toBe(166);
    await expect(models.generate({ ...request, reservedUsd: 0.000001 })).rejects.toMatchObject({ kind: 'budget' });
  });

  test('deterministic calls are answered from the cache by content: a hit costs nothing and calls no one', async () => {
    const cache = new MemoryResponseCache({ maxEntries: 10, ttlMs: 60_000 });
    const models = router(() => 0, { cache });
    primary.replies = [{ content: '{"label":"invoice"}', usage: { prompt_tokens: 100, completion_tokens: 10 } }];
    const cacheable = { ...request, system: 'classify', prompt: 'document 1', cacheable: true };
    const miss = await models.generate(cacheable);
    const calls = primary.requests.length;
    const hit = await models.generate({ ...cacheable, key: 'task:other-id' }); // another task, same content
    expect(miss).toMatchObject({ cache: 'miss', text: '{"label":"invoice"}' });
    expect(miss.costUsd).toBeGreaterThan(0);
    expect(hit).toMatchObject({ cache: 'hit', text: '{"label":"invoice"}', costUsd: 0 });
    expect(primary.requests.length).toBe(calls);
    await models.generate({ ...cacheable, prompt: 'document 2' }); // other content misses
    expect(primary.requests.length).toBe(calls + 1);
    await models.generate({ ...cacheable, cacheable: false }); // not cacheable: always called
    expect(primary.requests.length).toBe(calls + 2);
  });

  test('a tier whose chain names no configured provider is refused at start, naming the tier', () => {
    expect(() => new ModelRouter({ providers: providers().slice(0, 1), routing: { ...routing, medium: [{ provider: 'anthropic', model: 'claude-sonnet-4-0' }] } })).toThrow(
      /no configured provider serves tier medium: routing names medium → anthropic, but the providers with a key are primary/,
    );
  });
});

test('the in-process cache evicts the least recently used entry and honours the TTL', async () => {
  let now = 0;
  const cache = new MemoryResponseCache({ maxEntries: 2, ttlMs: 1_000, now: () => now });
  const answer = (text: string) => ({ text, model: 'm', usage: { inputTokens: 1, outputTokens: 1 } });
  await cache.set('a', answer('A'));
  await cache.set('b', answer('B'));
  await cache.get('a'); // a is now the most recently used
  await cache.set('c', answer('C'));
  expect(await cache.get('b')).toBeUndefined();
  expect((await cache.get('a'))?.text).toBe('A');
  now = 1_000;
  expect(await cache.get('a')).toBeUndefined();
});

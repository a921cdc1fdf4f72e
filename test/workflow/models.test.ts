// Real runs through the OpenAI adapter (loopback server): the response cache in PostgreSQL shared
// by two workers, `cache: false`, tier routing by purpose and by request, and a budget that an
// adversarial model cannot push past.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { plannerSystem, synthesizeSystem, taskSystem } from '../../src/activities/prompts';
import { estimateTokens } from '../../src/llm/pricing';
import { PostgresResponseCache } from '../../src/llm/response-cache';
import { defaultModelSettings } from '../../src/config';
import { defaultDependencies } from '../../src/worker';
import { startFakeOpenAI, type FakeOpenAI, type FakeReply } from '../helpers/fake-openai';
import { createTestKit, type TestKit } from '../helpers/temporal';

const databaseUrl = process.env.KEEL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const apiKey = 'sk-test-models-0123456789';

type Body = { model: string; max_tokens?: number; messages: Array<{ role: string; content: string }> };
const systemOf = (body: Record<string, unknown>) => (body as unknown as Body).messages[0]!.content;

/** Plans `plan`, answers tasks with `answer(prompt)`, synthesizes "done". */
function scripted(plan: unknown, answer: (prompt: string) => string = () => '{"label":"invoice"}'): (body: Record<string, unknown>) => FakeReply {
  return (body) => {
    const system = systemOf(body);
    if (system === plannerSystem) return { content: JSON.stringify(plan), usage: { prompt_tokens: 300, completion_tokens: 80 } };
    if (system === synthesizeSystem) return { content: 'done', usage: { prompt_tokens: 200, completion_tokens: 5 } };
    if (system === taskSystem) return { content: answer((body as unknown as Body).messages[1]!.content), usage: { prompt_tokens: 120, completion_tokens: 10 } };
    return { content: '{"verdict":"pass"}' };
  };
}

describe('the response cache in PostgreSQL', () => {
  const table = `keel_cache_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let fake: FakeOpenAI;
  const caches: PostgresResponseCache[] = [];
  const kits: TestKit[] = [];
  const worker = async () => {
    const cache = new PostgresResponseCache({ databaseUrl, ttlMs: 60_000, table });
    caches.push(cache);
    const kit = await createTestKit({ dependencies: defaultDependencies({ home: '.keel/test/models', openai: { apiKey, baseURL: fake.baseURL } }, { cache }) });
    kits.push(kit);
    return kit;
  };
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    for (const kit of kits) await kit.close();
    for (const cache of caches) await cache.close();
    const pool = new Pool({ connectionString: databaseUrl });
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.end();
    await fake.close();
  });

  test('a deterministic task is answered from the cache in a second run on a second worker; cache: false bypasses it', async () => {
    const plan = {
      tasks: [
        { id: 'classify', kind: 'llm', description: 'classify the document as invoice, receipt or letter', purpose: 'classification', requiredFields: ['label'] },
        { id: 'explain', kind: 'llm', description: 'explain the label', purpose: 'generation', dependsOn: ['classify'] },
      ],
    };
    fake.respond = scripted(plan, (prompt) => (prompt.includes('explain the label') ? 'because it has line items' : '{"label":"invoice"}'));
    const request = { goal: 'Label this document', input: { document: 'INVOICE #1: 2 x widgets' }, budgetUsd: 0.5 };
    const first = await (await worker()).run(request);
    const taskCallsAfterFirst = fake.requests.filter((sent) => systemOf(sent.body) === taskSystem).length;
    const second = await (await worker()).run(request); // another worker: another process-level router and pool
    const taskCallsAfterSecond = fake.requests.filter((sent) => systemOf(sent.body) === taskSystem).length;

    expect(first).toMatchObject({ status: 'completed', cache: { hits: 0, misses: 1 } });
    expect(second).toMatchObject({ status: 'completed', cache: { hits: 1, misses: 0 } });
    // Only `explain` (generation: not cacheable) went to the provider again.
    expect(taskCallsAfterFirst).toBe(2);
    expect(taskCallsAfterSecond).toBe(3);
    const classify = (result: typeof first) => result.tasks.find((task) => task.id === 'classify')!;
    expect(classify(first).costUsd).toBeGreaterThan(0);
    expect(classify(second).costUsd).toBe(0);
    expect(second.costUsd).toBeLessThan(first.costUsd);
    expect(classify(first).model).toBe('gpt-4o-mini'); // classification routes to the small tier

    const uncached = await kits[1]!.run({ ...request, cache: false });
    expect(uncached).toMatchObject({ status: 'completed', cache: { hits: 0, misses: 0 } });
    expect(fake.requests.filter((sent) => systemOf(sent.body) === taskSystem).length).toBe(5);
  });

  test('the request overrides the planner’s tier by task id or purpose', async () => {
    const plan = {
      tasks: [
        { id: 'extract', kind: 'llm', description: 'extract the total', purpose: 'extraction' },
        { id: 'summarize', kind: 'llm', description: 'summarize', tier: 'small', dependsOn: ['extract'] },
      ],
    };
    fake.respond = scripted(plan, () => '"ok"');
    const result = await kits[0]!.run({ goal: 'Tiers', budgetUsd: 0.5, cache: false, tiers: { summarize: 'large', extraction: 'medium' } });
    expect(result.status).toBe('completed');
    expect(Object.fromEntries(result.tasks.map((task) => [task.id, task.model]))).toEqual({ extract: 'gpt-4.1-mini', summarize: 'gpt-4o' });
  });
});

describe('a budget the model cannot exceed', () => {
  let fake: FakeOpenAI;
  let kit: TestKit;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    kit = await createTestKit({ dependencies: defaultDependencies({ home: '.keel/test/models-budget', openai: { apiKey, baseURL: fake.baseURL } }, { cache: undefined }) });
  });
  afterAll(async () => {
    await kit.close();
    await fake.close();
  });

  /** Every answer is as long as the call allows; prompts are counted the way Keel estimates them. */
  function greedy(plan: unknown): (body: Record<string, unknown>) => FakeReply {
    return (body) => {
      const { messages, max_tokens: maxTokens = 4_096 } = body as unknown as Body;
      const usage = { prompt_tokens: estimateTokens(messages.map((message) => message.content).join('')), completion_tokens: maxTokens };
      if (messages[0]!.content === plannerSystem) return { content: JSON.stringify(plan), usage };
      return { content: 'x'.repeat(200), usage };
    };
  }

  const billed = (fakeServer: FakeOpenAI, from: number) =>
    fakeServer.requests.slice(from).reduce((sum, sent) => {
      const { messages, max_tokens: maxTokens = 4_096, model } = sent.body as unknown as Body;
      const price = { 'gpt-4o': [2.5, 10], 'gpt-4o-mini': [0.15, 0.6], 'gpt-4.1-mini': [0.4, 1.6] }[model as 'gpt-4o']!;
      return sum + (estimateTokens(messages.map((message) => message.content).join('')) * price[0]! + maxTokens * price[1]!) / 1e6;
    }, 0);

  test('a plan of 120 parallel large tasks with maximal outputs: calls reserve before they start, spend stays within the budget, the rest is skipped', async () => {
    const tasks = Array.from({ length: 120 }, (_, index) => ({ id: `t${index}`, kind: 'llm', description: `write essay ${index}`, tier: 'large', critical: false }));
    fake.respond = greedy({ tasks });
    const from = fake.requests.length;
    const budgetUsd = 0.5;
    const result = await kit.run({ goal: 'Spend it all', budgetUsd, maxTasks: 200, cache: false });
    const spentByProvider = billed(fake, from);
    expect(result.costUsd).toBeLessThanOrEqual(budgetUsd);
    expect(spentByProvider).toBeLessThanOrEqual(budgetUsd + 1e-6); // what the provider would bill, from its own counts
    expect(Math.abs(spentByProvider - result.costUsd)).toBeLessThan(1e-6); // the ledger matches the price table
    expect(fake.requests.slice(from).every((sent) => typeof sent.body.max_tokens === 'number')).toBe(true);
    // Each call reserved its worst case (4,096 tokens at gpt-4o prices) before it started, so about
    // a dozen ran; the rest were skipped (non-critical) and synthesis had nothing left.
    const completed = result.tasks.filter((task) => task.status === 'completed').length;
    expect(completed).toBeGreaterThan(5);
    expect(completed).toBeLessThan(20);
    expect(result.tasks.filter((task) => task.status === 'skipped' && task.error?.kind === 'budget').length).toBe(120 - completed);
    expect(result.status).toBe('budget_exhausted');
    expect(result.reason).toMatch(/^synthesis failed: budget: /);
  }, 120_000);

  test('a critical task the budget cannot pay for escalates (budget); the default rejection ends budget_exhausted with what was done', async () => {
    const tasks = [
      { id: 'first', kind: 'llm', description: 'write a very long answer', tier: 'large' },
      { id: 'second', kind: 'llm', description: 'write another', tier: 'large', dependsOn: ['first'] },
    ];
    fake.respond = greedy({ tasks });
    const from = fake.requests.length;
    const result = await kit.run({ goal: 'Endless', budgetUsd: 0.002, cache: false, escalation: { timeoutMs: 1_000, defaultAction: 'reject' } });
    expect(result.status).toBe('budget_exhausted');
    expect(result.escalations[0]).toMatchObject({ kind: 'budget_exhausted', timedOut: true });
    expect(billed(fake, from)).toBeLessThanOrEqual(0.002 + 1e-6);
    expect(result.costUsd).toBeLessThanOrEqual(0.002);
  }, 60_000);

  test('a planner that replans forever: replans are bounded, each planning call spends at most half of what is left', async () => {
    // Every task answer lacks the required field, so every plan fails and asks for another.
    fake.respond = (body) => {
      const reply = greedy({ tasks: [{ id: `t${fake.requests.length}`, kind: 'llm', description: 'answer with a total', tier: 'small', requiredFields: ['total'] }] })(body);
      return systemOf(body) === plannerSystem ? reply : { ...reply, content: '{"note":"no total"}' };
    };
    const from = fake.requests.length;
    const budgetUsd = 0.2;
    const result = await kit.run({ goal: 'Never done', budgetUsd, maxReplans: 10, cache: false, escalation: { timeoutMs: 1_000, defaultAction: 'reject' } });
    // Each replan's planning spent up to half of what was left, so money ran out before maxReplans did.
    expect(result.replans).toBeGreaterThanOrEqual(3);
    expect(result.replans).toBeLessThan(10);
    expect(result.status).toBe('budget_exhausted');
    // The money runs out at a task (a human is asked, and the default ends the run) or at a replan's planning call.
    expect(result.escalations.at(-1)?.kind === 'budget_exhausted' || result.reason?.startsWith('planning failed: budget:')).toBe(true);
    expect(billed(fake, from)).toBeLessThanOrEqual(budgetUsd + 1e-6);
    expect(result.costUsd).toBeLessThanOrEqual(budgetUsd);
  }, 60_000);
});

describe('consensus', () => {
  let fake: FakeOpenAI;
  let kit: TestKit;
  const models = { small: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'openai', model: 'gpt-4.1-mini' }, { provider: 'openai', model: 'gpt-4o' }] };
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const settings = { ...defaultModelSettings, routing: { ...defaultModelSettings.routing, ...models } };
    kit = await createTestKit({ dependencies: defaultDependencies({ home: '.keel/test/models-consensus', openai: { apiKey, baseURL: fake.baseURL }, models: settings }, { cache: undefined }) });
  });
  afterAll(async () => {
    await kit.close();
    await fake.close();
  });
  const plan = (critical: boolean) => ({ tasks: [{ id: 'vote', kind: 'llm', description: 'is this refund allowed? yes or no', tier: 'small', consensus: 3, critical }] });
  const answersBy = (byModel: Record<string, string>) => (body: Record<string, unknown>) =>
    systemOf(body) === taskSystem ? { content: byModel[String(body.model)]!, usage: { prompt_tokens: 50, completion_tokens: 2 } } : scripted(plan(true))(body);

  test('three models answer at once; the normalized majority wins and all three are paid for', async () => {
    fake.respond = (body) => (systemOf(body) === plannerSystem ? scripted(plan(true))(body) : answersBy({ 'gpt-4o-mini': 'Yes.', 'gpt-4.1-mini': ' yes', 'gpt-4o': 'No' })(body));
    const from = fake.requests.length;
    const result = await kit.run({ goal: 'Refund?', budgetUsd: 0.5 });
    expect(result.status).toBe('completed');
    expect(result.tasks[0]).toMatchObject({ id: 'vote', status: 'completed', model: 'gpt-4o-mini' });
    expect(result.tasks[0]!.warning).toBeUndefined();
    const taskModels = fake.requests.slice(from).filter((sent) => systemOf(sent.body) === taskSystem).map((sent) => sent.body.model);
    expect(taskModels.sort()).toEqual(['gpt-4.1-mini', 'gpt-4o', 'gpt-4o-mini']);
    const expected = (50 * 0.15 + 2 * 0.6 + 50 * 0.4 + 2 * 1.6 + 50 * 2.5 + 2 * 10) / 1e6;
    expect(result.tasks[0]!.costUsd).toBeCloseTo(expected, 10);
  });

  test('no majority: a non-critical task takes the first model’s answer with a warning; a critical one escalates', async () => {
    const split = { 'gpt-4o-mini': 'yes', 'gpt-4.1-mini': 'no', 'gpt-4o': 'maybe' };
    fake.respond = (body) => (systemOf(body) === plannerSystem ? scripted(plan(false))(body) : answersBy(split)(body));
    const relaxed = await kit.run({ goal: 'Refund?', budgetUsd: 0.5 });
    expect(relaxed.status).toBe('completed');
    expect(relaxed.tasks[0]!.warning).toMatch(/^no majority among 3 models \(openai\/gpt-4o-mini: yes; openai\/gpt-4\.1-mini: no; openai\/gpt-4o: maybe\); took the first model's answer$/);

    fake.respond = (body) => (systemOf(body) === plannerSystem ? scripted(plan(true))(body) : answersBy(split)(body));
    const strict = await kit.run({ goal: 'Refund?', budgetUsd: 0.5, escalation: { timeoutMs: 1_000, defaultAction: 'reject' } });
    expect(strict.status).toBe('rejected');
    expect(strict.escalations[0]).toMatchObject({ kind: 'no_consensus', taskId: 'vote', decision: 'reject', timedOut: true });
  });
});

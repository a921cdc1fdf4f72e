// Model-call spans of real runs (OpenAI adapter, loopback server): the provider that answered, a
// cache hit marked as one, and prompts and answers only when capture is configured.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { MemoryResponseCache } from '../../src/llm/response-cache';
import { plannerSystem, synthesizeSystem } from '../../src/activities/prompts';
import { telemetryPlugin } from '../../src/observability/telemetry';
import { defaultDependencies } from '../../src/worker';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { createTestKit } from '../helpers/temporal';

const exporter = new InMemorySpanExporter();
telemetryPlugin(new SimpleSpanProcessor(exporter), 'keel-test'); // registers the global provider activities use
let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  const plan = { tasks: [{ id: 'label', kind: 'llm', description: 'label the ticket', purpose: 'classification' }] };
  fake.respond = (body) => {
    const system = (body.messages as Array<{ content: string }>)[0]!.content;
    if (system === plannerSystem) return { content: JSON.stringify(plan) };
    if (system === synthesizeSystem) return { content: 'labelled' };
    return { content: 'SECRET-ANSWER-bug' };
  };
});
afterAll(async () => fake.close());

const chatSpans = () => exporter.getFinishedSpans().filter((span) => span.name.startsWith('chat '));

test.each([false, true])('capture content %s: cache hits are marked, and messages are on spans only when asked', async (captureContent) => {
  exporter.reset();
  const cache = new MemoryResponseCache({ maxEntries: 10, ttlMs: 60_000 });
  const dependencies = { ...defaultDependencies({ home: '.keel/test/model-spans', openai: { apiKey: 'sk-test-spans-0123456789', baseURL: fake.baseURL } }, { cache }), captureContent };
  const kit = await createTestKit({ dependencies });
  try {
    const request = { goal: 'Label SECRET-GOAL ticket 7', budgetUsd: 0.5 };
    expect((await kit.run(request)).cache).toEqual({ hits: 0, misses: 1 });
    expect((await kit.run(request)).cache).toEqual({ hits: 1, misses: 0 });
  } finally {
    await kit.close();
  }
  const labels = chatSpans().filter((span) => span.attributes['keel.task_id'] === 'label');
  expect(labels.map((span) => span.attributes['keel.cache_hit'])).toEqual([false, true]);
  expect(labels[1]!.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.response.model': 'gpt-4o-mini', 'keel.cost_usd': 0, 'keel.tier': 'small' });
  const text = JSON.stringify(chatSpans().map((span) => span.attributes));
  if (captureContent) {
    expect(labels[0]!.attributes['gen_ai.input.messages']).toContain('SECRET-GOAL');
    expect(labels[0]!.attributes['gen_ai.output.messages']).toBe(JSON.stringify([{ role: 'assistant', content: 'SECRET-ANSWER-bug' }]));
  } else {
    expect(text).not.toContain('SECRET-GOAL');
    expect(text).not.toContain('SECRET-ANSWER');
  }
});

// A run with no scenario goes to the real OpenAI adapter (against the loopback server): it plans,
// runs, retries a 503, completes, and the key is nowhere in the exported history.
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { defaultDependencies } from '../../src/worker';
import { startFakeOpenAI } from '../helpers/fake-openai';
import { createTestKit } from '../helpers/temporal';

const apiKey = 'sk-test-NEVER-IN-HISTORY-0123456789';

test('a real run plans, retries a 503, completes, and never records the key', async () => {
  const plan = { tasks: [{ id: 'answer', kind: 'llm', description: 'answer the question', tier: 'small' }] };
  const fake = await startFakeOpenAI([
    { content: JSON.stringify(plan), usage: { prompt_tokens: 400, completion_tokens: 60 } },
    { status: 503, error: { message: 'overloaded' } },
    { content: '42', usage: { prompt_tokens: 50, completion_tokens: 2 } },
    { content: 'The answer is 42.', usage: { prompt_tokens: 80, completion_tokens: 6 } },
  ]);
  const kit = await createTestKit({ dependencies: defaultDependencies({ home: '.keel/test/real-model', openai: { apiKey, baseURL: fake.baseURL } }) });
  try {
    const result = await kit.run({ goal: 'What is six times seven?', budgetUsd: 0.1 });
    expect(result.status).toBe('completed');
    expect(result.output).toBe('The answer is 42.');
    expect(result.tasks[0]).toMatchObject({ id: 'answer', status: 'completed', attempts: 2, model: 'gpt-4o-mini' });
    expect(result.tokens).toEqual({ input: 530, output: 68 });
    expect(fake.requests.map((request) => request.body.model)).toEqual(['gpt-4o', 'gpt-4o-mini', 'gpt-4o-mini', 'gpt-4.1-mini']);
    const history = historyToJSON(await kit.client.workflow.getHandle(result.workflowId).fetchHistory());
    expect(history).not.toContain('NEVER-IN-HISTORY');
    expect(JSON.stringify(result)).not.toContain('NEVER-IN-HISTORY');
  } finally {
    await kit.close();
    await fake.close();
  }
});

// A model answer of 3 MB (Temporal refuses payloads over 2 MB): it is stored outside history and
// passed by reference; the dependent task and the synthesis get the real value; the run completes,
// and the history stays small. A huge final answer comes back whole through KeelClient.getResult.
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { plannerSystem, synthesizeSystem, taskSystem } from '../../src/activities/prompts';
import { FileBlobStore } from '../../src/storage/blobs';
import { withStoredAnswer } from '../../src/cli/trace';
import { renderTimelineHtml } from '../../src/trace/render-html';
import { buildTimeline } from '../../src/trace/timeline';
import { KeelClient } from '../../src/client';
import { defaultDependencies } from '../../src/worker';
import { activityInputs } from '../helpers/history';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { createTestKit, testAddress, type TestKit } from '../helpers/temporal';

let fake: FakeOpenAI;
let kit: TestKit;
const home = mkdtempSync(path.join(os.tmpdir(), 'keel-blobs-'));
const big = { summary: 'x'.repeat(3 * 1_048_576), pages: 1_200 };
const hugeAnswer = `The answer: ${'y'.repeat(2 * 1_048_576)}`;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  const plan = {
    tasks: [
      { id: 'read', kind: 'llm', description: 'read the whole archive', requiredFields: ['summary', 'pages'] },
      { id: 'count', kind: 'llm', description: 'count the pages', dependsOn: ['read'] },
    ],
  };
  fake.respond = (body) => {
    const messages = body.messages as Array<{ content: string }>;
    const system = messages[0]!.content;
    if (system === plannerSystem) return { content: JSON.stringify(plan) };
    if (system === synthesizeSystem) return { content: hugeAnswer };
    if (system === taskSystem && messages[1]!.content.includes('read the whole archive')) return { content: JSON.stringify(big) };
    // `count` sees the real 3 MB value in its prompt, not a reference.
    return { content: messages[1]!.content.includes(big.summary) ? '1200 pages' : 'I only saw a reference' };
  };
  kit = await createTestKit({ dependencies: defaultDependencies({ home, openai: { apiKey: 'sk-test-blobs-0123456789', baseURL: fake.baseURL } }, { cache: undefined }) });
});
afterAll(async () => {
  await kit.close();
  await fake.close();
});

test('a 3 MB model output runs through the plan by reference, and history stays small', async () => {
  expect.hasAssertions();
  // A client that sees the workers' blob store (here: the same KEEL_HOME) reads the answer whole.
  const keel = await KeelClient.connect({ address: testAddress(), taskQueue: kit.taskQueue, blobs: new FileBlobStore(path.join(home, 'blobs')) });
  const result = await kit.withWorker(async () => keel.getResult((await keel.startRun({ goal: 'Digest the archive', budgetUsd: 5 })).workflowId));
  const stored = await kit.keel.getResult(result.workflowId); // a client without that store keeps the reference and says why
  await keel.close();
  expect(result.status).toBe('completed');
  expect(result.output === hugeAnswer).toBe(true);
  expect(result.outputRef).toBeUndefined();
  expect(stored.outputRef).toMatchObject({ bytes: Buffer.byteLength(JSON.stringify(hugeAnswer)) });
  expect(stored.reason).toMatch(/^the output could not be read: stored value \w+ is missing from the file blob store/);
  const countPrompt = fake.requests.filter((sent) => {
    const [system, user] = sent.body.messages as Array<{ content: string }>;
    return system!.content === taskSystem && user!.content.includes('count the pages');
  });
  expect(countPrompt.length).toBe(1);
  expect((countPrompt[0]!.body.messages as Array<{ content: string }>)[1]!.content.includes(big.summary)).toBe(true); // the real value, not the reference
  const history = historyToJSON(await kit.client.workflow.getHandle(result.workflowId).fetchHistory());
  expect(history.length).toBeLessThan(512 * 1_024);
  const inputs = (await activityInputs(kit.client, result.workflowId, 'runTask')) as Array<{ task: { id: string }; dependencies: Record<string, unknown> }>;
  expect(inputs.find((input) => input.task.id === 'count')!.dependencies.read).toMatchObject({ $keelBlob: expect.any(String), fields: ['summary', 'pages'] });
  // keel trace --html shows the final answer, read back from the store.
  const timeline = await withStoredAnswer(buildTimeline(await kit.client.workflow.getHandle(result.workflowId).fetchHistory()), () => new FileBlobStore(path.join(home, 'blobs')));
  expect(renderTimelineHtml(timeline).includes(hugeAnswer.slice(0, 500))).toBe(true);
  expect(readdirSync(path.join(home, 'blobs')).filter((name) => name.endsWith('.json'))).toHaveLength(2); // read's output and the final answer
});

// Webhooks over real HTTP: duplicates attach to one run, bad bodies are refused with reasons,
// signatures and size limits hold, the dedupe window ends, and priority decides who starts first.
import type { FastifyInstance } from 'fastify';
import { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { KeelClient } from '../../src/client';
import { createIngestServer, sign } from '../../src/ingest/server';
import { llmTask, scriptedRequest } from '../helpers/scenarios';
import { createTestKit, createTestWorker, testAddress, uniqueName, type TestKit } from '../helpers/temporal';

const secret = 'a-shared-secret-of-32-characters!';
let kit: TestKit;
let app: FastifyInstance;
let signedApp: FastifyInstance;
let shortWindowApp: FastifyInstance;
let shortWindowUrl: string;
let url: string;
let signedUrl: string;

async function listen(server: FastifyInstance): Promise<string> {
  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

beforeAll(async () => {
  kit = await createTestKit();
  // A window far longer than 50 deliveries take on a loaded machine; the window test has its own, of 1 s.
  app = createIngestServer({ client: kit.keel, maxBodyBytes: 8_192, dedupeWindowMs: 60_000 });
  shortWindowApp = createIngestServer({ client: kit.keel, maxBodyBytes: 8_192, dedupeWindowMs: 1_000 });
  signedApp = createIngestServer({ client: kit.keel, maxBodyBytes: 8_192, dedupeWindowMs: 60_000, secret });
  url = await listen(app);
  shortWindowUrl = await listen(shortWindowApp);
  signedUrl = await listen(signedApp);
});
afterAll(async () => {
  await app.close();
  await shortWindowApp.close();
  await signedApp.close();
  await kit.close();
});

const request = () => scriptedRequest({ tasks: [llmTask('answer')], model: { 'task:answer': [{ text: '42' }] } });
const post = (base: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/runs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

test('50 concurrent deliveries of one event start one run; the others are told they are duplicates', async () => {
  const eventId = uniqueName('stripe-evt');
  const body = request();
  await kit.withWorker(async () => {
    const replies = await Promise.all(Array.from({ length: 50 }, () => post(url, body, { 'x-event-id': eventId })));
    const answers = await Promise.all(replies.map(async (reply) => ({ status: reply.status, ...((await reply.json()) as { workflowId: string; runId: string; duplicate: boolean }) })));
    expect(answers.filter((answer) => answer.status === 202 && !answer.duplicate)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 200 && answer.duplicate)).toHaveLength(49);
    expect(new Set(answers.map((answer) => answer.runId)).size).toBe(1);
    const workflowId = answers[0]!.workflowId;
    expect((await kit.keel.getResult(workflowId)).status).toBe('completed');
    const runs = [];
    for await (const run of kit.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
    expect(runs).toHaveLength(1);
  });
});

test('after the dedupe window the same event id starts a new run', async () => {
  const eventId = uniqueName('evt');
  await kit.withWorker(async () => {
    const first = (await (await post(shortWindowUrl, request(), { 'idempotency-key': eventId })).json()) as { workflowId: string; runId: string };
    await kit.keel.getResult(first.workflowId);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the window is 1 s here
    const again = await post(shortWindowUrl, request(), { 'idempotency-key': eventId });
    const second = (await again.json()) as { workflowId: string; runId: string; duplicate: boolean };
    expect(again.status).toBe(202);
    expect(second).toMatchObject({ workflowId: first.workflowId, duplicate: false });
    expect(second.runId).not.toBe(first.runId);
  });
});

test('bad bodies are refused with every reason, and nothing starts', async () => {
  const invalid = await post(url, { goal: '', budgetUsd: -1, tools: 'all', extra: true });
  expect(invalid.status).toBe(400);
  const { problems } = (await invalid.json()) as { problems: string[] };
  expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^goal: /), expect.stringMatching(/^budgetUsd: /), expect.stringMatching(/^tools: /), expect.stringMatching(/Unrecognized key: "extra"/)]));
  const notJson = await post(url, '{"goal": ');
  expect(notJson.status).toBe(400);
  expect(await notJson.json()).toMatchObject({ error: 'the body is not valid JSON' });
  const badPriority = await post(url, request(), { 'x-keel-priority': '9' });
  expect(badPriority.status).toBe(400);
  expect(await badPriority.json()).toMatchObject({ problems: ['priority must be an integer from 1 (first) to 5 (last), got "9"'] });
  const tooLarge = await post(url, { goal: 'x'.repeat(10_000) });
  expect(tooLarge.status).toBe(413);
  expect(await tooLarge.json()).toMatchObject({ error: 'the body is larger than 8192 bytes (KEEL_WEBHOOK_MAX_BYTES)' });
  const wrongType = await fetch(`${url}/runs`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
  expect(wrongType.status).toBe(415);
});

test('with a secret, only bodies signed with it are accepted', async () => {
  const body = JSON.stringify(request());
  const unsigned = await post(signedUrl, body);
  expect(unsigned.status).toBe(401);
  expect(await unsigned.json()).toMatchObject({ error: expect.stringMatching(/^missing X-Keel-Signature/) });
  const forged = await post(signedUrl, body, { 'x-keel-signature': sign(body, 'some-other-secret-value-xxxxxxxx') });
  expect(forged.status).toBe(401);
  const tampered = await post(signedUrl, body.replace('test goal', 'evil goal'), { 'x-keel-signature': sign(body, secret) });
  expect(tampered.status).toBe(401);
  const signed = await post(signedUrl, body, { 'x-keel-signature': sign(body, secret), 'x-event-id': uniqueName('signed') });
  expect(signed.status).toBe(202);
  await kit.withWorker(async () => {
    expect((await kit.keel.getResult(((await signed.json()) as { workflowId: string }).workflowId)).status).toBe('completed');
  });
});

test('with a backlog and one workflow slot, the high-priority run starts first', async () => {
  const taskQueue = uniqueName('keel-priority');
  const keel = await KeelClient.connect({ address: testAddress(), taskQueue });
  const server = createIngestServer({ client: keel, maxBodyBytes: 65_536, dedupeWindowMs: 60_000 });
  const base = await listen(server);
  try {
    const ids: Array<{ workflowId: string; priority: number }> = [];
    for (const priority of [5, 5, 5, 5, 1]) {
      const reply = (await (await post(base, request(), { 'x-keel-priority': String(priority) })).json()) as { workflowId: string; priority: number };
      ids.push(reply);
    }
    // Only now does a worker come, with room for one workflow task at a time.
    const connection = await NativeConnection.connect({ address: testAddress() });
    const worker = await createTestWorker(connection, taskQueue, { maxConcurrentWorkflowTasks: 1 });
    const firstTaskAt = await worker.runUntil(async () => {
      const starts: Array<{ priority: number; at: number }> = [];
      for (const { workflowId, priority } of ids) {
        await keel.getResult(workflowId);
        const history = await keel.temporal.workflow.getHandle(workflowId).fetchHistory();
        const started = history.events!.find((event) => event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)!;
        starts.push({ priority, at: Number(started.eventTime!.seconds) * 1_000 + Math.floor((started.eventTime!.nanos ?? 0) / 1e6) });
      }
      return starts;
    });
    await connection.close();
    const order = [...firstTaskAt].sort((a, b) => a.at - b.at);
    expect(order[0]!.priority).toBe(1);
  } finally {
    await server.close();
    await keel.close();
  }
}, 60_000);

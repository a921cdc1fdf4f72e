// Benchmark 8, a run's live stream: the time from a token leaving a loopback OpenAI-format provider
// to an SSE client of `keel serve` reading it (p50, p95), and the history a streamed answer adds per
// 1,000 tokens, against the same run whose provider sends the answer in one piece.
import { createServer } from 'node:http';
import { createKeelWorker, defaultDependencies } from '../dist/worker.js';
import { KeelClient } from '../dist/client/index.js';
import { createIngestServer } from '../dist/ingest/server.js';
import { createAuthenticator, tokenHash } from '../dist/security/api-tokens.js';
import { freeLoopbackPort } from '../dist/cli/ports.js';
import proto from '@temporalio/proto';

const { temporal } = proto;

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** A provider that streams `tokens` words ("w<i> ") one every `intervalMs`, noting when each left; or all at once. */
async function startProvider() {
  const sentAt = new Map();
  let mode = { tokens: 200, intervalMs: 20, whole: false };
  const server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => (raw += chunk));
    request.on('end', () => {
      if (request.method === 'GET') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [] }));
        return;
      }
      const body = JSON.parse(raw);
      const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      const usage = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [], usage: { prompt_tokens: 50, completion_tokens: mode.tokens, total_tokens: 0 } })}\n\n`;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const words = Array.from({ length: mode.tokens }, (_unused, index) => `w${index} `);
      if (mode.whole) {
        response.end(chunk({ role: 'assistant', content: words.join('') }) + chunk({}, 'stop') + usage + 'data: [DONE]\n\n');
        return;
      }
      response.write(chunk({ role: 'assistant', content: '' }));
      let index = 0;
      const next = () => {
        if (index >= words.length) {
          response.end(chunk({}, 'stop') + usage + 'data: [DONE]\n\n');
          return;
        }
        sentAt.set(`w${index}`, performance.timeOrigin + performance.now());
        response.write(chunk({ content: words[index++] }));
        setTimeout(next, mode.intervalMs);
      };
      next();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseURL: `http://127.0.0.1:${server.address().port}/v1`,
    sentAt,
    set: (next) => (mode = { ...mode, ...next }),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Reads the run's SSE stream to its end, noting when each word arrived. */
async function readStream(url, token) {
  const receivedAt = new Map();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return receivedAt;
    const now = performance.timeOrigin + performance.now();
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split('\n').find((line) => line.startsWith('data: '));
      if (!data) continue;
      const event = JSON.parse(data.slice(6));
      if (event.type === 'model.delta' && event.key.startsWith('task:')) for (const word of event.text.match(/w\d+/g) ?? []) receivedAt.set(word, now);
    }
  }
}

export async function streamBench({ connection, address, bundle, quick }) {
  const provider = await startProvider();
  const taskQueue = 'bench-stream';
  const token = 'bench-stream-token-0123456789';
  const worker = await createKeelWorker({
    connection,
    namespace: 'default',
    taskQueue,
    workflowBundle: bundle,
    dependencies: defaultDependencies({ home: '.keel/bench-stream', openai: { apiKey: 'sk-bench', baseURL: provider.baseURL } }, { cache: undefined }),
  });
  const keel = await KeelClient.connect({ address, taskQueue });
  const port = await freeLoopbackPort();
  const app = createIngestServer({ client: keel, maxBodyBytes: 1_048_576, dedupeWindowMs: 60_000, authenticate: createAuthenticator([{ name: 'bench', sha256: Buffer.from(tokenHash(token), 'hex'), roles: ['viewer'] }]) });
  await app.listen({ host: '127.0.0.1', port });
  const runs = quick ? 1 : 3;
  const tokens = 200;
  const request = () => ({ goal: 'bench stream', tools: [], plan: { tasks: [{ id: 'answer', kind: 'llm', description: 'write', tier: 'small' }], outputFrom: 'answer' }, budgetUsd: 5 });
  const latencies = [];
  const bytes = { streamed: [], whole: [] };
  const protoBytes = { streamed: [], whole: [] };
  const signals = { streamed: [], whole: [] };
  try {
    await worker.runUntil(async () => {
      for (let round = 0; round < runs; round++) {
        for (const whole of [false, true]) {
          provider.set({ tokens, intervalMs: 20, whole });
          provider.sentAt.clear();
          const { workflowId } = await keel.startRun(request());
          const received = await readStream(`http://127.0.0.1:${port}/runs/${workflowId}/events`, token);
          await keel.getResult(workflowId);
          const side = whole ? 'whole' : 'streamed';
          bytes[side].push((await keel.exportHistory(workflowId)).length);
          const history = await keel.temporal.workflow.getHandle(workflowId).fetchHistory();
          protoBytes[side].push(temporal.api.history.v1.History.encode(history).finish().length);
          signals[side].push(history.events.filter((event) => event.workflowExecutionSignaledEventAttributes).length);
          if (!whole) for (const [word, at] of received) if (provider.sentAt.has(word)) latencies.push(at - provider.sentAt.get(word));
        }
      }
    });
  } finally {
    await app.close();
    await keel.close();
    await provider.close();
  }
  const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const added = mean(bytes.streamed) - mean(bytes.whole);
  const addedProto = mean(protoBytes.streamed) - mean(protoBytes.whole);
  return {
    runs,
    tokensPerRun: tokens,
    tokenIntervalMs: 20,
    tokensMeasured: latencies.length,
    latencyP50Ms: percentile(latencies, 50),
    latencyP95Ms: percentile(latencies, 95),
    historyBytesStreamed: mean(bytes.streamed),
    historyBytesWhole: mean(bytes.whole),
    historyBytesPer1000Tokens: (added / tokens) * 1000,
    historyProtoBytesStreamed: mean(protoBytes.streamed),
    historyProtoBytesWhole: mean(protoBytes.whole),
    historyProtoBytesPer1000Tokens: (addedProto / tokens) * 1000,
    deltaBatches: mean(signals.streamed),
    historyProtoBytesPerBatch: addedProto / Math.max(1, mean(signals.streamed) - mean(signals.whole)),
  };
}

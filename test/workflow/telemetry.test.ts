// A scenario run is one trace: workflow → activities → model and tool calls, with GenAI attributes.
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NativeConnection } from '@temporalio/worker';
import { KeelClient } from '../../src/client';
import { telemetryPlugin } from '../../src/observability/telemetry';
import { createKeelWorker, defaultDependencies } from '../../src/worker';
import { bundleKeelWorkflows } from '../../src/workflow-bundle';
import { llmTask, scriptedRequest, toolTask } from '../helpers/scenarios';
import { quietLogger, testAddress, uniqueName } from '../helpers/temporal';

test('spans form one tree with GenAI attributes on model calls and the outcome on tool calls', async () => {
  const exporter = new InMemorySpanExporter();
  const plugin = telemetryPlugin(new SimpleSpanProcessor(exporter), 'keel-test');
  const bundle = await bundleKeelWorkflows({
    plugins: [plugin],
    logger: quietLogger,
  });
  const taskQueue = uniqueName('keel-otel');
  const connection = await NativeConnection.connect({ address: testAddress() });
  const keel = await KeelClient.connect({ address: testAddress(), taskQueue, plugins: [plugin] });
  const worker = await createKeelWorker({
    connection,
    namespace: 'default',
    taskQueue,
    dependencies: defaultDependencies({ home: `.keel/test/${taskQueue}` }),
    workflowBundle: { code: bundle.code },
    plugins: [plugin],
  });
  const request = scriptedRequest({
    tasks: [toolTask('fetch', 'crm', [], { input: { id: 7 } }), llmTask('summary', ['fetch'], { tier: 'small' })],
    tools: { crm: [{ fail: 'transient' }, { result: { tier: 'gold' } }] },
    model: { 'task:summary': [{ text: 'gold customer', model: 'gpt-4o-mini', usage: { inputTokens: 120, outputTokens: 8 } }] },
  });
  // And a run that is one agent loop: a step that calls two tools, then the answer.
  const loop = {
    goal: 'look up order 7',
    tools: ['lookup_order', 'check_stock'],
    agent: {},
    scenario: {
      model: { 'step:agent': [{ toolCalls: [{ tool: 'lookup_order', input: { orderId: 7 } }, { tool: 'check_stock', input: { sku: 'MUG' } }] }, { text: 'shipped; in stock' }] },
      tools: { lookup_order: [{ result: { status: 'shipped' } }], check_stock: [{ result: { inStock: 3 } }] },
    },
  };
  const [result, loopResult] = await worker.runUntil(async () => {
    const { workflowId } = await keel.startRun(request);
    const { workflowId: loopId } = await keel.startRun(loop);
    return [await keel.getResult(workflowId), await keel.getResult(loopId)] as const;
  });
  await keel.close();
  await connection.close();
  expect(result.status).toBe('completed');

  const spans = exporter.getFinishedSpans();
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  const parentOf = (span: ReadableSpan) => (span.parentSpanId ? byId.get(span.parentSpanId) : undefined);
  const ancestors = (span: ReadableSpan) => {
    const names: string[] = [];
    for (let parent = parentOf(span); parent; parent = parentOf(parent)) names.push(parent.name);
    return names;
  };

  const model = spans.find((span) => span.name === 'chat gpt-4o-mini' && span.attributes['keel.task_id'] === 'summary');
  expect(model).toBeDefined();
  expect(model!.attributes).toMatchObject({
    'gen_ai.operation.name': 'chat',
    'gen_ai.system': 'scripted',
    'gen_ai.provider.name': 'scripted',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.response.model': 'gpt-4o-mini',
    'gen_ai.usage.input_tokens': 120,
    'gen_ai.usage.output_tokens': 8,
    'gen_ai.response.finish_reasons': ['stop'],
    'keel.tier': 'small',
    'keel.cache_hit': false,
  });
  expect(model!.attributes['keel.cost_usd']).toBeCloseTo((120 * 0.15 + 8 * 0.6) / 1e6, 10);
  expect(ancestors(model!)).toEqual(expect.arrayContaining(['RunActivity:runTask', 'RunWorkflow:agentRun']));

  const tools = spans.filter((span) => span.name === 'execute_tool crm');
  for (const tool of tools) expect(tool.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'crm' });
  expect(tools.map((span) => span.attributes['keel.tool.outcome']).sort()).toEqual(['error', 'ok']);
  expect(tools.find((span) => span.attributes['keel.tool.outcome'] === 'error')!.attributes['error.type']).toBe('transient');
  for (const tool of tools) expect(ancestors(tool)).toContain('RunWorkflow:agentRun');

  // Everything belongs to the run's one trace, and no prompt or output text is on a span.
  const traceId = model!.spanContext().traceId;
  const runSpans = spans.filter((span) => span.spanContext().traceId === traceId);
  expect(ancestors(model!).at(-1)).toBe('StartWorkflow:agentRun'); // the trace starts at the client
  expect(runSpans.map((span) => span.name)).toEqual(expect.arrayContaining(['StartWorkflow:agentRun', 'RunWorkflow:agentRun', 'StartActivity:plan', 'RunActivity:plan', 'chat gpt-4o', 'execute_tool crm']));
  expect(JSON.stringify(runSpans.map((span) => span.attributes))).not.toContain('gold customer');

  // The agent loop: a chat span a step; the tool calls a step asked for are children of its span.
  expect(loopResult.status).toBe('completed');
  const loopTools = spans.filter((span) => span.name === 'execute_tool lookup_order' || span.name === 'execute_tool check_stock');
  expect(loopTools).toHaveLength(2);
  for (const tool of loopTools) {
    const step = parentOf(tool)!;
    expect(step.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'keel.task_id': 'agent' });
    expect(ancestors(step)).toContain('RunActivity:agentStep');
  }
  expect(new Set(loopTools.map((tool) => tool.parentSpanId)).size).toBe(1);
}, 120_000);

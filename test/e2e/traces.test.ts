// With the standard OTEL_* variables, `keel run` and `keel worker` export one trace per run over
// OTLP: the CLI's StartWorkflow span is the root, the worker's workflow, activity and model spans
// hang below it. The collector here is a loopback server that records what arrives.
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runKeel, startKeel, waitFor } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

test('a CLI run and its worker export one trace, rooted at the client', async () => {
  const received: ReceivedSpan[] = [];
  const collector = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const payload = JSON.parse(body) as {
        resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: ReceivedSpan[] }> }>;
      };
      for (const resourceSpans of payload.resourceSpans) {
        const service = resourceSpans.resource.attributes.find((attribute) => attribute.key === 'service.name')?.value.stringValue ?? '';
        for (const scope of resourceSpans.scopeSpans) for (const span of scope.spans) received.push({ ...span, service });
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const address = collector.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const env = {
    TEMPORAL_ADDRESS: testAddress(),
    KEEL_TASK_QUEUE: uniqueName('keel-traces'),
    KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-traces-')),
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  const worker = startKeel(['worker'], env);
  try {
    await waitFor(() => worker.output().includes('keel worker'), 'the worker to start');
    const run = await runKeel(['run', '--scenario', 'examples/flaky-tools.json', '--wait', '--json'], env);
    expect(run.code).toBe(0);
    const root = () => received.find((span) => span.service === 'keel-cli' && span.name === 'StartWorkflow:agentRun');
    await waitFor(() => root() !== undefined, 'the CLI to export its span', 20_000);
    const traceId = root()!.traceId;
    const inTrace = () => received.filter((span) => span.traceId === traceId);
    await waitFor(() => inTrace().some((span) => span.name.startsWith('chat ')) && inTrace().some((span) => span.name === 'RunWorkflow:agentRun'), 'the worker to export the run', 20_000);
    const names = new Set(inTrace().map((span) => span.name));
    for (const name of ['StartWorkflow:agentRun', 'RunWorkflow:agentRun', 'StartActivity:plan', 'RunActivity:runTask']) expect(names).toContain(name);
    expect(inTrace().filter((span) => span.service === 'keel-worker').length).toBeGreaterThan(3);
    expect(root()!.parentSpanId ?? '').toBe(''); // the client's span is the root
  } finally {
    worker.child.kill('SIGINT');
    await worker.exited;
    collector.close();
  }
}, 120_000);

// `keel serve` as a process: it says where it listens, starts a run from a signed webhook that a
// worker completes, and refuses an unsigned one.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KeelClient } from '../../src/client';
import { sign } from '../../src/ingest/server';
import { parseScenario } from '../../src/shared';
import { freePort, startKeel, useWorkerProcess, waitFor } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

const taskQueue = uniqueName('keel-serve');
const secret = 'serve-test-secret-0123456789abcdef';
const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-serve-')), KEEL_WEBHOOK_SECRET: secret };
useWorkerProcess(env);

test('a signed webhook starts a run that completes; an unsigned one is refused', async () => {
  const port = await freePort();
  const server = startKeel(['serve'], { ...env, KEEL_SERVE_ADDRESS: `127.0.0.1:${port}` });
  try {
    await waitFor(() => server.output().includes('keel serve'), 'keel serve to listen');
    expect(server.output()).toContain(`POST http://127.0.0.1:${port}/runs → task queue "${taskQueue}"`);
    expect(server.output()).toContain('signed bodies only');
    const body = JSON.stringify(parseScenario(readFileSync('examples/onboarding.json', 'utf8'), 'examples/onboarding.json').request);
    const post = (headers: Record<string, string>) => fetch(`http://127.0.0.1:${port}/runs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    expect((await post({})).status).toBe(401);
    const accepted = await post({ 'x-keel-signature': sign(body, secret), 'x-event-id': uniqueName('evt'), 'x-keel-priority': '2' });
    expect(accepted.status).toBe(202);
    const { workflowId, priority } = (await accepted.json()) as { workflowId: string; priority: number };
    expect(priority).toBe(2);
    const keel = await KeelClient.connect({ address: testAddress(), taskQueue });
    try {
      expect((await keel.getResult(workflowId)).status).toBe('completed');
    } finally {
      await keel.close();
    }
  } finally {
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
  }
}, 60_000);

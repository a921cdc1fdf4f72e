// KEEL_LOG_FORMAT=json: the worker's stdout is one JSON object a line, with the run's context.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keelBin, runKeel, waitFor } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

test('structured logs carry workflowId, runId and taskId, and every stdout line is JSON', async () => {
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: testAddress(),
    KEEL_TASK_QUEUE: uniqueName('keel-logs'),
    KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-logs-')),
    KEEL_LOG_FORMAT: 'json',
    KEEL_LOG_LEVEL: 'INFO',
  };
  const worker = spawn(process.execPath, [keelBin, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  worker.stdout.on('data', (chunk) => (stdout += chunk));
  worker.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => worker.on('close', resolve));
  try {
    await waitFor(() => stderr.includes('keel worker'), 'the worker to start');
    const id = uniqueName('logged');
    expect((await runKeel(['run', '--scenario', 'examples/onboarding-replan.json', '--id', id, '--wait', '--json'], env)).code).toBe(0);
    await waitFor(() => stdout.includes('"run ended"'), 'the run-ended log line', 10_000);
  } finally {
    worker.kill('SIGINT');
    await exited;
  }
  const lines = stdout.trim().split('\n');
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>); // throws on any non-JSON line
  for (const entry of entries) expect(entry).toMatchObject({ time: expect.any(String), level: expect.any(String), message: expect.any(String) });
  const runLines = entries.filter((entry) => typeof entry.workflowId === 'string' && (entry.workflowId as string).startsWith('logged-'));
  expect(runLines.find((entry) => entry.message === 'task failed')).toMatchObject({ taskId: 'verify', failureKind: 'semantic', next: 'replan', runId: expect.any(String) });
  expect(runLines.find((entry) => entry.message === 'task completed' && entry.taskId === 'account')).toMatchObject({ attempts: 1, runId: expect.any(String) });
  expect(runLines.find((entry) => entry.message === 'run ended')).toMatchObject({ status: 'completed' });
}, 120_000);

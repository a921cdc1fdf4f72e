// Temporal on PostgreSQL (temporal-server built from its Go module, schemas set up by
// temporal-sql-tool) with two `keel worker` processes on one task queue: 100 runs, one worker
// killed with SIGKILL mid-way, and every run still completes; both workers did work.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { KeelClient } from '../../src/client';
import { useClusterServer } from '../helpers/cluster';
import { startKeel, waitFor } from '../helpers/cli';
import { scriptedRequest, toolTask } from '../helpers/scenarios';

const cluster = useClusterServer('t');
const { suffix } = cluster;

test('two workers on PostgreSQL-backed Temporal; one is killed with SIGKILL mid-way; all 100 runs complete', async () => {
  const taskQueue = `keel-pg-${suffix}`;
  // Ten activity slots each, so the 300 tool calls take several seconds and both workers share them.
  const env = { TEMPORAL_ADDRESS: cluster.server().address, KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-pg-')), KEEL_MAX_CONCURRENT_ACTIVITIES: '10' };
  const workers = [startKeel(['worker'], env), startKeel(['worker'], env)];
  for (const worker of workers) await waitFor(() => worker.output().includes('keel worker'), 'a worker to start');
  const keel = await KeelClient.connect({ address: cluster.server().address, taskQueue });
  const pollers = async () =>
    new Set(
      (
        await keel.temporal.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        })
      ).pollers?.map((poller) => poller.identity) ?? [],
    ).size;
  try {
    for (let tries = 0; (await pollers()) < 2; tries++) {
      if (tries > 100) throw new Error('both workers did not start polling');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Three chained tool calls of 300 ms each; a short timeout so work lost with the killed worker is retried soon.
    const request = scriptedRequest({
      tasks: [toolTask('a', 'slow', [], { timeoutMs: 3_000 }), toolTask('b', 'slow', ['a'], { timeoutMs: 3_000 }), toolTask('c', 'slow', ['b'], { timeoutMs: 3_000 })],
      tools: { slow: [{ result: { ok: true }, delayMs: 300 }] },
    });
    const started = await Promise.all(Array.from({ length: 100 }, () => keel.startRun(request)));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    workers[0]!.child.kill('SIGKILL'); // mid-way: it holds activities and cached workflows
    const results = await Promise.all(started.map(({ workflowId }) => keel.getResult(workflowId)));
    expect(results.filter((result) => result.status === 'completed')).toHaveLength(100);

    const identities = new Set<string>();
    for (const { workflowId } of started) {
      const history = await keel.temporal.workflow.getHandle(workflowId).fetchHistory();
      for (const event of history.events ?? []) {
        const identity = event.activityTaskStartedEventAttributes?.identity ?? (event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED ? event.workflowTaskStartedEventAttributes?.identity : undefined);
        if (identity) identities.add(identity);
      }
    }
    const pids = workers.map((worker) => String(worker.child.pid));
    for (const pid of pids) expect([...identities].some((identity) => identity.startsWith(`${pid}@`))).toBe(true);
  } finally {
    await keel.close();
    workers[1]!.child.kill('SIGINT');
    await workers[1]!.exited;
    await workers[0]!.exited;
  }
}, 300_000);

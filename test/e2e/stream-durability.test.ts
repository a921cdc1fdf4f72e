// A run's live stream survives what the run survives: its worker killed with SIGKILL mid-answer
// (a new worker replays the run, the stream is the same, and the retried attempt is marked), and
// its Temporal server restarted mid-answer (the reader and the activity's batches wait it out).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { KeelClient } from '../../src/client';
import { freeLoopbackPort } from '../../src/cli/ports';
import { startDevServer, type DevServer } from '../../src/servers/dev-server';
import type { StreamEvent } from '../../src/shared';
import { createKeelWorker, defaultDependencies } from '../../src/worker';
import { startKeel } from '../helpers/cli';
import { streamedAnswer, streamedReply } from '../helpers/scenarios';
import { testAddress, uniqueName } from '../helpers/temporal';

/** Reads the whole stream, calling `midway` once after the `at`-th delta. */
async function readAll(keel: KeelClient, workflowId: string, at: number, midway: () => Promise<void>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  let deltas = 0;
  let pending: Promise<void> | undefined;
  for await (const event of keel.events(workflowId)) {
    events.push(event);
    if (event.type === 'model.delta' && ++deltas === at) pending = midway();
  }
  await pending;
  return events;
}

function expectWhole(events: StreamEvent[]): void {
  expect(events.map((event) => event.offset)).toEqual(events.map((_, index) => index));
  expect(events[0]!.type).toBe('run.started');
  expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'completed' });
}

const deltasOf = (events: StreamEvent[]) => events.filter((event): event is Extract<StreamEvent, { type: 'model.delta' }> => event.type === 'model.delta' && event.key === 'task:reply');

test('the worker is killed with SIGKILL mid-answer: the stream goes on after a new worker starts, and the retried attempt is marked', async () => {
  const taskQueue = uniqueName('keel-stream-kill');
  const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-stream-kill-')), KEEL_CONFIG: '' };
  const keel = await KeelClient.connect({ address: testAddress(), taskQueue });
  const first = startKeel(['worker'], env);
  let second: ReturnType<typeof startKeel> | undefined;
  try {
    // 3 s of writing within a 4 s timeout: the lost attempt is found 4 s after it started.
    const { workflowId } = await keel.startRun(streamedReply(3_000, 4_000));
    const events = await readAll(keel, workflowId, 4, async () => {
      first.child.kill('SIGKILL');
      await first.exited;
      second = startKeel(['worker'], env);
    });
    expectWhole(events);
    const retrying = events.findIndex((event) => event.type === 'task.retrying');
    expect(events[retrying]).toMatchObject({ key: 'task:reply', taskId: 'reply', attempt: 2, failure: 'attempt 1 did not finish (its worker stopped, or it timed out)' });
    const deltas = deltasOf(events);
    const before = deltas.filter((delta) => delta.offset < retrying);
    const after = deltas.filter((delta) => delta.offset > retrying);
    expect(before.length).toBeGreaterThanOrEqual(4);
    expect(before.every((delta) => delta.attempt === 1)).toBe(true);
    expect(streamedAnswer.startsWith(before.map((delta) => delta.text).join(''))).toBe(true);
    expect(after.every((delta) => delta.attempt === 2)).toBe(true);
    expect(after.map((delta) => delta.text).join('')).toBe(streamedAnswer);
    // A reader that starts now, after the kill and the replay, reads the same stream: the same events
    // at the same offsets. (Their times are the run's clock, which a replay may read a moment apart
    // across a local activity.)
    const again: StreamEvent[] = [];
    for await (const event of keel.events(workflowId)) again.push(event);
    const timeless = (list: StreamEvent[]) => list.map(({ at: _at, ...rest }) => rest);
    expect(timeless(again)).toEqual(timeless(events));
  } finally {
    await keel.close();
    first.child.kill('SIGKILL');
    second?.child.kill('SIGINT');
    await second?.exited;
  }
}, 90_000);

test('the Temporal server restarts mid-answer: the stream resumes, with every delta once', async () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'keel-stream-restart-'));
  const port = await freeLoopbackPort();
  const uiPort = await freeLoopbackPort();
  const start = () => startDevServer({ binary: process.env.KEEL_TEST_TEMPORAL_CLI!, databaseFile: path.join(work, 'temporal.sqlite'), port, uiPort, namespace: 'default' });
  let server: DevServer = await start();
  const taskQueue = uniqueName('keel-stream-restart');
  const connection = await NativeConnection.connect({ address: server.address });
  const worker = await createKeelWorker({ connection, namespace: 'default', taskQueue, dependencies: defaultDependencies({ home: work }) });
  const keel = await KeelClient.connect({ address: server.address, taskQueue });
  try {
    const events = await worker.runUntil(async () => {
      const { workflowId } = await keel.startRun(streamedReply(5_000));
      return readAll(keel, workflowId, 4, async () => {
        await server.stop();
        for (let attempt = 1; ; attempt++) {
          try {
            server = await start();
            return;
          } catch (error) {
            if (attempt >= 3) throw error;
            await new Promise((resolve) => setTimeout(resolve, 2_000));
          }
        }
      });
    });
    expectWhole(events);
    const deltas = deltasOf(events);
    // One attempt, or a retried one marked as such: the last attempt's text is the answer, whole.
    const last = Math.max(...deltas.map((delta) => delta.attempt));
    expect(deltas.filter((delta) => delta.attempt === last).map((delta) => delta.text).join('')).toBe(streamedAnswer);
    if (last > 1) expect(events.some((event) => event.type === 'task.retrying')).toBe(true);
  } finally {
    await keel.close();
    await connection.close();
    await server.stop();
  }
}, 120_000);

// Connects tests to the run's shared dev server and starts real workers on unique task queues.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { ActivityDependencies } from '../../src/activities';
import { createKeelWorker, defaultDependencies, type KeelWorkerOptions } from '../../src/worker';
import { KeelClient } from '../../src/client';
import type { AgentRequestInput, RunResult } from '../../src/shared';

// Workers log state changes at INFO; tests only want errors (failures under test are expected). Jest may reuse a process whose
// runtime is already installed, which is fine.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // already installed in this process
}

/** A bundler logger that says only errors. */
export const quietLogger = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never;

export function testAddress(): string {
  const address = process.env.KEEL_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('KEEL_TEST_TEMPORAL_ADDRESS is unset: run tests through jest (globalSetup starts the server)');
  return address;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A Keel worker on the test server with the run's prebuilt bundle; `options` add to or replace the defaults. */
export function createTestWorker(connection: NativeConnection, taskQueue: string, options: Partial<KeelWorkerOptions> = {}): Promise<Worker> {
  return createKeelWorker({
    connection,
    namespace: 'default',
    taskQueue,
    dependencies: defaultDependencies({ home: `.keel/test/${taskQueue}` }),
    workflowBundle: { codePath: process.env.KEEL_TEST_WORKFLOW_BUNDLE! },
    ...options,
  });
}

export interface TestKit {
  taskQueue: string;
  client: Client;
  keel: KeelClient;
  address: string;
  createWorker(): Promise<Worker>;
  /** Runs a fresh worker while `body` runs. */
  withWorker<T>(body: () => Promise<T>): Promise<T>;
  /** Starts a run with a worker up and waits for its result. */
  run(request: AgentRequestInput): Promise<RunResult>;
  close(): Promise<void>;
}

export async function createTestKit(options: { dependencies?: ActivityDependencies; home?: string } = {}): Promise<TestKit> {
  const address = testAddress();
  const taskQueue = uniqueName('keel-test');
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const keel = await KeelClient.connect({ address, taskQueue });
  const dependencies = options.dependencies ?? defaultDependencies({ home: options.home ?? `.keel/test/${taskQueue}` });
  const createWorker = () => createTestWorker(nativeConnection, taskQueue, { dependencies });
  return {
    taskQueue,
    client,
    keel,
    address,
    createWorker,
    withWorker: async (body) => (await createWorker()).runUntil(body),
    run: async (request) =>
      (await createWorker()).runUntil(async () => {
        const { workflowId } = await keel.startRun(request);
        return keel.getResult(workflowId);
      }),
    async close() {
      await keel.close();
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/**
 * The same request twice on one worker: once as it is, once with a history bound of `maxHistoryEvents`
 * (so it continues as new); the two results, and the continued run's first run id.
 */
export async function unbrokenAndContinued(
  kit: TestKit,
  request: (maxHistoryEvents?: number) => AgentRequestInput,
  maxHistoryEvents = 10,
): Promise<{ unbroken: RunResult; continued: RunResult; workflowId: string; firstRunId: string }> {
  return kit.withWorker(async () => {
    const unbroken = await kit.keel.getResult((await kit.keel.startRun(request())).workflowId);
    const started = await kit.keel.startRun(request(maxHistoryEvents));
    return { unbroken, continued: await kit.keel.getResult(started.workflowId), workflowId: started.workflowId, firstRunId: started.runId };
  });
}

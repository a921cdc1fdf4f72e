// The engine's floor for bench/run.mjs: a bare Temporal workflow that runs the same DAG shape as
// Keel's benchmark plan with no-op activities, and nothing else (no ledger, evaluation, validation).
// floorAgent also makes Keel's two other calls on the critical path, a plan before and a synthesis
// after, so Keel/floorAgent is the cost of Keel's machinery alone. floorPlanned makes only the plan
// call: the floor of a Keel run whose plan names its answer task (no synthesis call).
const { patched, proxyActivities, proxyLocalActivities, upsertSearchAttributes } = require('@temporalio/workflow');
const { defineSearchAttributeKey } = require('@temporalio/common');

const { noop } = proxyActivities({ startToCloseTimeout: '30s' });

/** @param {Array<{id: string, dependsOn: string[]}>} tasks */
async function floorDag(tasks, call = noop) {
  const done = new Map();
  const start = (task) => {
    if (!done.has(task.id)) {
      done.set(task.id, Promise.all(task.dependsOn.map((id) => start(tasks.find((other) => other.id === id)))).then(() => call(task.id)));
    }
    return done.get(task.id);
  };
  await Promise.all(tasks.map(start));
  return tasks.length;
}

/** @param {Array<{id: string, dependsOn: string[]}>} tasks */
async function floorAgent(tasks) {
  await noop('plan');
  await floorDag(tasks);
  await noop('synthesize');
  return tasks.length;
}

/** @param {Array<{id: string, dependsOn: string[]}>} tasks */
async function floorPlanned(tasks) {
  await noop('plan');
  await floorDag(tasks);
  return tasks.length;
}

/** The agent loop's floor: the same model and tool activity calls, one after another, and nothing else. @param {number} steps */
async function floorLoop(steps) {
  for (let step = 1; step <= steps; step++) {
    await noop(`step ${step}`);
    await noop(`tool ${step}`);
  }
  await noop('answer');
  return steps;
}

/**
 * The floor's DAG with `awaits` more awaits a task before its call: what a promise costs a run's
 * workflow code (the SDK records a stack for each one), measured against floorDag by replay.
 * @param {Array<{id: string, dependsOn: string[]}>} tasks @param {number} awaits
 */
async function floorDagAwaiting(tasks, awaits) {
  const pause = async () => {
    for (let i = 0; i < awaits; i++) await null;
  };
  const done = new Map();
  const start = (task) => {
    if (!done.has(task.id)) {
      done.set(task.id, Promise.all(task.dependsOn.map((id) => start(tasks.find((other) => other.id === id)))).then(pause).then(() => noop(task.id)));
    }
    return done.get(task.id);
  };
  await Promise.all(tasks.map(start));
  return tasks.length;
}

/**
 * The floor's DAG behind one `patched()` call: what versioning a change costs a run (the SDK records
 * a marker and upserts TemporalChangeVersion). @param {Array<{id: string, dependsOn: string[]}>} tasks
 */
async function floorDagPatched(tasks) {
  patched('bench-probe');
  return floorDag(tasks);
}

// The floor's DAG with one more thing a Keel run does, each priced by bench/feature-cost.mjs.
const keelStatus = defineSearchAttributeKey('KeelStatus', 'KEYWORD');
/** Two visibility upserts, at the start and at the end (as a pipeline's `running` and `completed`). @param {Array<{id: string, dependsOn: string[]}>} tasks */
async function floorDagUpserting(tasks) {
  upsertSearchAttributes([{ key: keelStatus, value: 'running' }]);
  await floorDag(tasks);
  upsertSearchAttributes([{ key: keelStatus, value: 'completed' }]);
  return tasks.length;
}

/** One local activity first (as a supplied plan's workerFacts). @param {Array<{id: string, dependsOn: string[]}>} tasks */
async function floorDagLocalActivity(tasks) {
  await proxyLocalActivities({ startToCloseTimeout: '10s' }).facts();
  return floorDag(tasks);
}

/** Each activity with Keel's options: a heartbeat timeout, a retry policy and a summary. @param {Array<{id: string, dependsOn: string[]}>} tasks */
async function floorDagKeelOptions(tasks) {
  const { noop: call } = proxyActivities({
    startToCloseTimeout: '60s',
    heartbeatTimeout: '10s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '60s', maximumAttempts: 5, nonRetryableErrorTypes: ['permanent', 'semantic'] },
    summary: 'a · step',
  });
  return floorDag(tasks, call);
}

/** Each activity's input and the result about as large as a pipeline's (700 bytes a call). @param {Array<{id: string, dependsOn: string[]}>} tasks */
async function floorDagLargePayloads(tasks) {
  const filler = 'x'.repeat(700);
  await floorDag(tasks, (id) => noop({ id, filler }));
  return filler + filler;
}

module.exports = { floorDag, floorAgent, floorPlanned, floorLoop, floorDagAwaiting, floorDagPatched, floorDagUpserting, floorDagLocalActivity, floorDagKeelOptions, floorDagLargePayloads };

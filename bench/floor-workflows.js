// The engine's floor for bench/run.mjs: a bare Temporal workflow that runs the same DAG shape as
// Keel's benchmark plan with no-op activities, and nothing else (no ledger, evaluation, validation).
// floorAgent also makes Keel's two other calls on the critical path, a plan before and a synthesis
// after, so Keel/floorAgent is the cost of Keel's machinery alone. floorPlanned makes only the plan
// call: the floor of a Keel run whose plan names its answer task (no synthesis call).
const { patched, proxyActivities } = require('@temporalio/workflow');

const { noop } = proxyActivities({ startToCloseTimeout: '30s' });

/** @param {Array<{id: string, dependsOn: string[]}>} tasks */
async function floorDag(tasks) {
  const done = new Map();
  const start = (task) => {
    if (!done.has(task.id)) {
      done.set(task.id, Promise.all(task.dependsOn.map((id) => start(tasks.find((other) => other.id === id)))).then(() => noop(task.id)));
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

module.exports = { floorDag, floorAgent, floorPlanned, floorLoop, floorDagAwaiting, floorDagPatched };

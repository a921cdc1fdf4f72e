// npm run bench [-- --quick]: Keel's overhead against the engine's floor (a planned run, and an agent
// loop), the critical path, replay speed, and cost — ratios measured in one run, on a local dev server started here. Writes
// bench/results/bench-<date>.json and .md. Absolute times depend on the machine; the ratios are the point.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { devSqlitePragmas, startDevServer } from '../dist/servers/dev-server.js';
import { freeLoopbackPort } from '../dist/cli/ports.js';
import { KeelClient } from '../dist/client/index.js';
import { createKeelWorker, defaultDependencies } from '../dist/worker.js';
import { parseHistory, replayHistories } from '../dist/trace/replay.js';
import { bundleKeelWorkflows } from '../dist/workflow-bundle.js';
import { keelStatusKey } from '../dist/shared/index.js';
import { streamBench } from './stream.mjs';
import { benchServer, commit, concurrency, dag, interleaved, keelRequest, machine, measure, percentile, pipelineRequest, quiet, roundRatios, runToCompletion, serverPid, withNewThreads, writeResults } from './measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' }, only: { type: 'string' }, 'dynamic-config': { type: 'string', multiple: true, default: [] } } });
// --only 1,2: just those benchmarks, printed as JSON and not written to bench/results (for tuning).
const only = values.only ? new Set(values.only.split(',')) : undefined;
const wanted = (section) => !only || only.has(String(section));
const runs = Number(values.runs ?? (values.quick ? 30 : 200));
const overheadRounds = values.quick ? 1 : 4;

// The same DAG, planned by the model, whose plan names task f as the answer: no synthesis call.
const answerTaskRequest = () => {
  const request = keelRequest();
  request.scenario.model = { plan: [{ ...request.scenario.model.plan[0], outputFrom: 'f' }] };
  return request;
};

// Benchmark 7: a whole run as one agent loop, 10 steps of one instant tool call each, then the answer.
const loopSteps = 10;
const agentLoopRequest = () => ({
  goal: 'bench agent loop',
  tools: ['step'],
  budgetUsd: 1,
  agent: { maxSteps: loopSteps + 1 },
  scenario: {
    model: { 'step:agent': [...Array.from({ length: loopSteps }, (_unused, index) => ({ toolCalls: [{ tool: 'step', input: { index } }] })), { text: 'done' }] },
    tools: { step: [{ result: { ok: true } }] },
  },
});

/**
 * What one run's workflow code does, counted by replaying its history in this thread (debug mode):
 * the promises it creates in the workflow's context (the SDK records a stack for each one), its
 * search-attribute upserts, and its events.
 */
async function workflowCounts(client, workflowId, workflowBundle) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  let promises = 0;
  // A promise of the workflow's V8 context is not an instance of this context's Promise.
  const stop = v8.promiseHooks.onInit((promise) => {
    if (!(promise instanceof Promise)) promises += 1;
  });
  try {
    await Worker.runReplayHistory({ workflowBundle, debugMode: true, replayName: `count-${workflowId}` }, history, workflowId);
  } finally {
    stop();
  }
  return { promises, upserts: history.events.filter((event) => event.upsertWorkflowSearchAttributesEventAttributes).length, events: history.events.length };
}

// floorDagAwaiting's extra awaits a task: each creates a promise in the workflow's context.
const promiseProbeAwaits = 10;

/**
 * What one promise of workflow code costs the workflow thread, in ms: the floor's history and the
 * same DAG with `promiseProbeAwaits` more awaits a task, each replayed in this thread (debug mode)
 * in alternating batches, CPU a replay apart divided by the promises apart.
 */
async function promiseCostMs(client, floorId, awaitingId, workflowBundle) {
  const histories = [await client.workflow.getHandle(floorId).fetchHistory(), await client.workflow.getHandle(awaitingId).fetchHistory()];
  const counts = [await workflowCounts(client, floorId, workflowBundle), await workflowCounts(client, awaitingId, workflowBundle)];
  const batch = values.quick ? 20 : 100;
  const cpu = [0, 0];
  let serial = 0;
  // A batch of each first, not counted: the code warms up.
  for (const history of histories) {
    for await (const outcome of Worker.runReplayHistories({ workflowBundle, debugMode: true, replayName: 'probe-warm-up' }, Array.from({ length: batch }, () => ({ workflowId: `promise-probe-${serial++}`, history })))) {
      if (outcome.error) throw outcome.error;
    }
  }
  for (let round = 0; round < (values.quick ? 2 : 5); round++) {
    for (const which of [0, 1]) {
      const many = Array.from({ length: batch }, () => ({ workflowId: `promise-probe-${serial++}`, history: histories[which] }));
      const before = process.cpuUsage();
      for await (const outcome of Worker.runReplayHistories({ workflowBundle, debugMode: true, replayName: `probe-${serial}` }, many)) {
        if (outcome.error) throw outcome.error;
      }
      const used = process.cpuUsage(before);
      cpu[which] += (used.user + used.system) / 1000;
    }
  }
  const replays = batch * (values.quick ? 2 : 5);
  const perReplay = cpu.map((ms) => ms / replays);
  return { floorReplayMs: perReplay[0], awaitingReplayMs: perReplay[1], promisesApart: counts[1].promises - counts[0].promises, msPerPromise: (perReplay[1] - perReplay[0]) / (counts[1].promises - counts[0].promises) };
}

const { env, binary } = await benchServer({ dynamicConfig: values['dynamic-config'] });
const address = env.connection.options.address;
const results = { date: new Date().toISOString(), machine: machine(), commit: commit(), runs, concurrency };
try {
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: env.connection });

  // 1. Overhead: Keel vs the bare-workflow floor vs an in-process executor, same DAG, zero latency.
  const keelBundle = await bundleKeelWorkflows({ logger: quiet() });
  const keel = await KeelClient.connect({ address, taskQueue: 'bench-keel' });
  if (wanted(1)) {
    const [keelWorker, keelThreads] = await withNewThreads(() => createKeelWorker({ connection, namespace: 'default', taskQueue: 'bench-keel', dependencies: defaultDependencies({ home: '.keel/bench' }), workflowBundle: keelBundle }));
    const keelRun = () => runToCompletion(keel, 'bench run');
    const pipelineRun = () => runToCompletion(keel, 'bench pipeline run', pipelineRequest());
    const answerTaskRun = () => runToCompletion(keel, 'bench answer-task run', answerTaskRequest());
    const floorBundle = await bundleWorkflowCode({ workflowsPath: path.join(here, 'floor-workflows.js'), logger: quiet() });
    const [floorWorker, floorThreads] = await withNewThreads(() => Worker.create({ connection, taskQueue: 'bench-floor', workflowBundle: floorBundle, activities: { noop: async () => undefined } }));
    let id = 0;
    const floorRun = () => client.workflow.execute('floorDag', { taskQueue: 'bench-floor', workflowId: `floor-${id++}`, args: [dag] });
    const floorAgentRun = () => client.workflow.execute('floorAgent', { taskQueue: 'bench-floor', workflowId: `floor-agent-${id++}`, args: [dag] });
    const floorPlannedRun = () => client.workflow.execute('floorPlanned', { taskQueue: 'bench-floor', workflowId: `floor-planned-${id++}`, args: [dag] });
    const inProcess = async () => {
      const done = new Map();
      const start = (task) => done.get(task.id) ?? done.set(task.id, Promise.all(task.dependsOn.map((dep) => start(dag.find((t) => t.id === dep)))).then(() => undefined)).get(task.id);
      await Promise.all(dag.map(start));
    };
    const [[keelStats, floorStats, floorAgentStats, pipelineStats, answerTaskStats, floorPlannedStats], [keelAlone, floorAlone], last] = await keelWorker.runUntil(() =>
      floorWorker.runUntil(async () => {
        await measure('warm-up', 10, keelRun);
        await measure('warm-up', 10, pipelineRun);
        await measure('warm-up', 10, answerTaskRun);
        await measure('warm-up', 10, floorRun);
        const server = serverPid(address.split(':').at(-1));
        // In alternating rounds, so that the machine's drift over the minutes falls on all three.
        const measured = await interleaved(
          [
            { label: 'keel agentRun', run: keelRun, threads: keelThreads },
            { label: 'bare Temporal workflow (floor)', run: floorRun, threads: floorThreads },
            { label: 'bare workflow + a plan and a synthesis call (floor + 2)', run: floorAgentRun, threads: floorThreads },
            { label: 'keel agentRun, plan in the request, answer from task f (no plan or synthesis call)', run: pipelineRun, threads: keelThreads },
            { label: 'keel agentRun, planned, the plan names task f as the answer (no synthesis call)', run: answerTaskRun, threads: keelThreads },
            { label: 'bare workflow + a plan call (floor + 1)', run: floorPlannedRun, threads: floorThreads },
          ],
          { rounds: overheadRounds, perRound: runs / overheadRounds, server },
        );
        // One run at a time: the latency a run sees when the machine is not saturated.
        const alone = Math.max(10, Math.floor(runs / 5));
        const unloaded = [await measure('keel agentRun, one at a time', alone, keelRun, server, 1), await measure('floor, one at a time', alone, floorRun, server, 1)];
        const last = { keel: await keelRun(), pipeline: await pipelineRun(), floor: `floor-${id}`, floorPlus2: `floor-agent-${id + 1}` };
        await floorRun();
        await floorAgentRun();
        last.floorAwaiting = `floor-awaiting-${id}`;
        await client.workflow.execute('floorDagAwaiting', { taskQueue: 'bench-floor', workflowId: last.floorAwaiting, args: [dag, promiseProbeAwaits] });
        return [measured, unloaded, last];
      }),
    );
    // Per run, of one run of each: events, KeelStatus upserts, and promises the workflow code creates.
    const counts = {
      keel: await workflowCounts(client, last.keel, keelBundle),
      pipeline: await workflowCounts(client, last.pipeline, keelBundle),
      floor: await workflowCounts(client, last.floor, floorBundle),
      floorPlus2: await workflowCounts(client, last.floorPlus2, floorBundle),
    };
    const events = { keel: counts.keel.events, floor: counts.floor.events };
    const promiseCost = await promiseCostMs(client, last.floor, last.floorAwaiting, floorBundle);
    const memoryStats = await measure('in-process, no durability', runs, inProcess);
    const cpuPerRun = (row) => row.workerCpuMsPerRun + row.serverCpuMsPerRun;
    results.overhead = {
      rows: [keelStats, floorStats, floorAgentStats, pipelineStats, answerTaskStats, floorPlannedStats, memoryStats],
      unloaded: [keelAlone, floorAlone],
      keelOverFloorP50: keelStats.p50Ms / floorStats.p50Ms,
      floorOverKeelThroughput: floorStats.runsPerSecond / keelStats.runsPerSecond,
      keelOverFloorCpu: cpuPerRun(keelStats) / cpuPerRun(floorStats),
      keelOverFloorPlus2P50: keelStats.p50Ms / floorAgentStats.p50Ms,
      keelOverFloorPlus2Rounds: roundRatios(keelStats, floorAgentStats),
      keelOverFloorUnloadedP50: keelAlone.p50Ms / floorAlone.p50Ms,
      pipelineOverFloorP50: pipelineStats.p50Ms / floorStats.p50Ms,
      pipelineOverFloorRounds: roundRatios(pipelineStats, floorStats),
      pipelineOverFloorCpu: cpuPerRun(pipelineStats) / cpuPerRun(floorStats),
      answerTaskOverFloorP50: answerTaskStats.p50Ms / floorStats.p50Ms,
      answerTaskOverFloorCpu: cpuPerRun(answerTaskStats) / cpuPerRun(floorStats),
      answerTaskOverFloorPlus1P50: answerTaskStats.p50Ms / floorPlannedStats.p50Ms,
      floorPlus1OverFloorP50: floorPlannedStats.p50Ms / floorStats.p50Ms,
      eventsPerRun: events,
      countsPerRun: counts,
      promiseCost,
    };
  }

  // 7. The agent loop against a bare workflow making the same 11 model and 10 tool activity calls.
  if (wanted(7)) {
    const loopWorker = await createKeelWorker({ connection, namespace: 'default', taskQueue: 'bench-keel', dependencies: defaultDependencies({ home: '.keel/bench' }), workflowBundle: keelBundle });
    const floorWorker = await Worker.create({ connection, taskQueue: 'bench-floor-loop', workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(here, 'floor-workflows.js'), logger: quiet() }), activities: { noop: async () => undefined } });
    let id = 0;
    const loopRun = () => runToCompletion(keel, 'bench agent loop', agentLoopRequest());
    const floorLoopRun = () => client.workflow.execute('floorLoop', { taskQueue: 'bench-floor-loop', workflowId: `floor-loop-${id++}`, args: [loopSteps] });
    const [rows, lastLoop] = await loopWorker.runUntil(() =>
      floorWorker.runUntil(async () => {
        await measure('warm-up', 10, loopRun);
        await measure('warm-up', 10, floorLoopRun);
        const server = serverPid(address.split(':').at(-1));
        const measured = await interleaved(
          [
            { label: `keel agent loop, ${loopSteps} steps of one tool call, then the answer`, run: loopRun },
            { label: `bare workflow, the same ${loopSteps * 2 + 1} activity calls in sequence (floor)`, run: floorLoopRun },
          ],
          { rounds: overheadRounds, perRound: Math.max(10, Math.floor(runs / 2 / overheadRounds)), server },
        );
        const { workflowId } = await keel.startRun(agentLoopRequest());
        await keel.getResult(workflowId);
        return [measured, workflowId];
      }),
    );
    const historyBytes = async (workflowId) => JSON.stringify(JSON.parse(historyToJSON(await client.workflow.getHandle(workflowId).fetchHistory()))).length;
    const [keelRow, floorRow] = rows;
    const cpuPerRun = (row) => row.workerCpuMsPerRun + row.serverCpuMsPerRun;
    results.agentLoop = {
      steps: loopSteps + 1,
      rows,
      keelOverFloorP50: keelRow.p50Ms / floorRow.p50Ms,
      keelOverFloorCpu: cpuPerRun(keelRow) / cpuPerRun(floorRow),
      historyBytesPerStep: { keel: (await historyBytes(lastLoop)) / (loopSteps + 1), floor: (await historyBytes(`floor-loop-${id - 1}`)) / (loopSteps + 1) },
    };
  }

  // 3. Critical path: a→b→d→e→f and a→g(600)→h both take 1,000 ms.
  if (wanted(3)) {
    const ideal = 5 * 200;
    const pathWorker = await createKeelWorker({ connection, namespace: 'default', taskQueue: 'bench-keel', dependencies: defaultDependencies({ home: '.keel/bench' }), workflowBundle: keelBundle });
    const timed = await pathWorker.runUntil(async () => {
      const samples = [];
      for (let i = 0; i < (values.quick ? 3 : 10); i++) {
        const { workflowId } = await keel.startRun(keelRequest(200));
        const result = await keel.getResult(workflowId);
        const history = await keel.temporal.workflow.getHandle(workflowId).fetchHistory();
        if (result.status !== 'completed') throw new Error(`critical-path run ended ${result.status}`);
        // From the first task scheduled to the last task completed (synthesis excluded).
        const scheduled = history.events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runTask');
        const scheduledIds = new Set(scheduled.map((e) => String(e.eventId)));
        const completed = history.events.filter((e) => e.activityTaskCompletedEventAttributes && scheduledIds.has(String(e.activityTaskCompletedEventAttributes.scheduledEventId)));
        samples.push({ first: scheduled[0], last: completed.at(-1) });
      }
      return samples;
    });
    const millis = (t) => Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
    const spans = timed.map(({ first, last }) => millis(last.eventTime) - millis(first.eventTime)).sort((a, b) => a - b);
    results.criticalPath = { idealMs: ideal, measuredP50Ms: percentile(spans, 50), ratio: percentile(spans, 50) / ideal, sumOfWavesMs: 1_400 };
  }

  // 4. Replay: the recorded histories, replayed against the current code.
  if (wanted(4)) {
    const sources = readdirSync(path.join(here, '../test/histories')).filter((name) => name.endsWith('.json')).map((name) => {
      const history = parseHistory(readFileSync(path.join(here, '../test/histories', name), 'utf8'), name);
      return { source: name, workflowId: name, history };
    });
    const repeat = values.quick ? 3 : 10;
    const all = Array.from({ length: repeat }, () => sources).flat();
    const events = all.reduce((sum, source) => sum + (source.history.events?.length ?? 0), 0);
    const t0 = performance.now();
    const outcomes = await replayHistories(all, { workflowBundle: keelBundle, debugMode: false });
    const replaySeconds = (performance.now() - t0) / 1000;
    results.replay = { histories: all.length, events, ok: outcomes.filter((o) => o.ok).length, historiesPerSecond: all.length / replaySeconds, msPer1000Events: (replaySeconds * 1000 * 1000) / events };
  }

  // 6. Tuning: each knob A/B on the same Keel workload, in alternating rounds.
  if (wanted(6)) results.tuning = await tuningBench({ binary, connection, address, bundle: keelBundle, quick: values.quick });

  // 2. Concurrency: N runs queued at once, then one `keel worker` process; model calls take 1-3 s.
  if (wanted(2)) results.inFlight = await concurrencyBench(address, values.quick ? 200 : 2_000);

  // 8. Streams: a token's way from the provider to an SSE client, and the history streaming adds.
  if (wanted(8)) results.stream = await streamBench({ connection, address, bundle: keelBundle, quick: values.quick });

  await keel.close();
  await connection.close();
} finally {
  await env.teardown();
}

// 5. Cost: bench/cost.mjs.
if (only) {
  // Part of the bench: its figures as JSON, kept with their date, machine and commit like a whole run's.
  console.log(JSON.stringify(results, null, 2));
  writeResults(`bench-${results.date.slice(0, 10)}-only-${[...only].join('-')}${values.quick ? '-quick' : ''}.json`, results, { overwrite: values.quick });
  process.exit(0);
}
results.cost = execFileSync(process.execPath, [path.join(here, 'cost.mjs'), '--runs', String(values.quick ? 40 : 200)], { encoding: 'utf8' }).trim();

const o = results.overhead;
const fmt = (n, d = 1) => n.toFixed(d);
// A p50 ratio's range over the rounds of the one run: how far it moves with nothing changed.
const inRounds = (rounds) => (rounds.ratios.length > 1 ? ` (its rounds ${fmt(rounds.min, 2)}–${fmt(rounds.max, 2)}×)` : '');
const md = [
  `# Keel benchmarks · ${results.date}`,
  '',
  `${results.machine} · at ${results.commit} · ${runs} runs each (in ${overheadRounds} alternating round${overheadRounds > 1 ? 's' : ''}), ${concurrency} at a time · local dev server (SQLite)`,
  '',
  '## 1. Overhead vs the floor (8-task DAG, zero-latency tools)',
  '',
  `| executor | runs/s | p50 ms | p95 ms | CPU ms a run: this process | of which its worker's workflow thread | server |`,
  '|---|---|---|---|---|---|---|',
  ...o.rows.map((row) => `| ${row.label} | ${fmt(row.runsPerSecond)} | ${fmt(row.p50Ms)} | ${fmt(row.p95Ms)} | ${row.workerCpuMsPerRun === undefined ? '' : fmt(row.workerCpuMsPerRun)} | ${row.workflowThreadCpuMsPerRun === undefined ? '' : fmt(row.workflowThreadCpuMsPerRun)} | ${row.serverCpuMsPerRun === undefined ? '' : fmt(row.serverCpuMsPerRun)} |`),
  // CPU a run means little one at a time: the idle processes' own CPU is spread over few runs.
  ...o.unloaded.map((row) => `| ${row.label} (${row.runs} runs) | ${fmt(row.runsPerSecond)} | ${fmt(row.p50Ms)} | ${fmt(row.p95Ms)} | | | |`),
  '',
  `Keel / floor p50 latency, ${concurrency} at a time: **${fmt(o.keelOverFloorP50, 2)}×**; floor / Keel throughput: **${fmt(o.floorOverKeelThroughput, 2)}×**. ` +
    `With ${concurrency} at a time the machine is saturated, so latency follows CPU: Keel / floor CPU a run (this process + server) is **${fmt(o.keelOverFloorCpu, 2)}×**.`,
  '',
  `Keel / (floor + 2) p50: **${fmt(o.keelOverFloorPlus2P50, 2)}×**${inRounds(o.keelOverFloorPlus2Rounds)}: Keel's machinery alone, against a bare workflow that also makes the plan and synthesis calls Keel has on its critical path (10 activities to Keel's 10). ` +
    `One run at a time, Keel / floor p50: **${fmt(o.keelOverFloorUnloadedP50, 2)}×**.`,
  '',
  `Keel with the plan in the request and its answer from task f / floor p50: **${fmt(o.pipelineOverFloorP50, 2)}×**${inRounds(o.pipelineOverFloorRounds)} (CPU a run **${fmt(o.pipelineOverFloorCpu, 2)}×**): the same eight activity calls as the floor, with Keel's validation, ledger, evaluation, run record, search attribute and worker-facts local activity around them.`,
  '',
  `Keel planned by the model, the plan naming task f as the answer / floor p50: **${fmt(o.answerTaskOverFloorP50, 2)}×** (CPU a run **${fmt(o.answerTaskOverFloorCpu, 2)}×**); ` +
    `against a bare workflow that also makes the plan call (floor + 1): **${fmt(o.answerTaskOverFloorPlus1P50, 2)}×**; floor + 1 / floor: ${fmt(o.floorPlus1OverFloorP50, 2)}×.`,
  '',
  `Events per run: Keel ${o.eventsPerRun.keel}, floor ${o.eventsPerRun.floor} (${fmt(o.eventsPerRun.keel / o.eventsPerRun.floor, 2)}×).`,
  '',
  'One run of each, replayed in this thread: the promises its workflow code creates (the SDK records a stack for every one), and its search-attribute upserts.',
  '',
  '| run | events | promises | upserts |',
  '|---|---|---|---|',
  ...[['keel agentRun', o.countsPerRun.keel], ['keel pipeline (plan in the request, answer from task f)', o.countsPerRun.pipeline], ['floor', o.countsPerRun.floor], ['floor + 2', o.countsPerRun.floorPlus2]].map(([label, c]) => `| ${label} | ${c.events} | ${c.promises} | ${c.upserts} |`),
  '',
  `What a promise costs: the floor's history replayed in this thread takes ${fmt(o.promiseCost.floorReplayMs, 2)} ms of CPU, the same DAG with ${promiseProbeAwaits} more awaits a task ` +
    `(${o.promiseCost.promisesApart} more promises) ${fmt(o.promiseCost.awaitingReplayMs, 2)} ms: **${fmt(o.promiseCost.msPerPromise * 1000, 1)} µs a promise**. ` +
    `At that price the pipeline's ${o.countsPerRun.pipeline.promises - o.countsPerRun.floor.promises} promises more than the floor's cost its workflow thread ${fmt((o.countsPerRun.pipeline.promises - o.countsPerRun.floor.promises) * o.promiseCost.msPerPromise, 2)} ms a run ` +
    `(a lower bound: Keel's promises are made deeper in the stack, and the SDK's cost grows with the frames it records).`,
  '',
  ...(results.agentLoop
    ? [
        `## 7. The agent loop vs its floor (${results.agentLoop.steps} model calls and ${results.agentLoop.steps - 1} tool calls, zero latency)`,
        '',
        '| executor | runs/s | p50 ms | p95 ms | CPU ms a run: this process | server |',
        '|---|---|---|---|---|---|',
        ...results.agentLoop.rows.map((row) => `| ${row.label} | ${fmt(row.runsPerSecond)} | ${fmt(row.p50Ms)} | ${fmt(row.p95Ms)} | ${fmt(row.workerCpuMsPerRun)} | ${fmt(row.serverCpuMsPerRun)} |`),
        '',
        `Keel agent loop / floor p50: **${fmt(results.agentLoop.keelOverFloorP50, 2)}×** (CPU a run **${fmt(results.agentLoop.keelOverFloorCpu, 2)}×**). History bytes a step: Keel ${Math.round(results.agentLoop.historyBytesPerStep.keel)}, floor ${Math.round(results.agentLoop.historyBytesPerStep.floor)}.`,
        '',
      ]
    : []),
  '## 2. Concurrency (model calls 1-3 s of scripted latency, one `keel worker` process)',
  '',
  `${results.inFlight.runs} runs queued before the worker started (${fmt(results.inFlight.queueSeconds)} s to start them), all ${results.inFlight.completed} completed in ${fmt(results.inFlight.totalSeconds)} s (${fmt(results.inFlight.runsPerSecond)} runs/s).`,
  '',
  '| | p50 | p95 |',
  '|---|---|---|',
  `| time from the worker's first poll to the run's end | ${fmt(results.inFlight.p50Ms / 1000)} s | ${fmt(results.inFlight.p95Ms / 1000)} s |`,
  `| ideal (the run's critical path: plan + slower task + synthesis) | ${fmt(results.inFlight.idealP50Ms / 1000)} s | ${fmt(results.inFlight.idealP95Ms / 1000)} s |`,
  `| measured / ideal, per run | ${fmt(results.inFlight.ratioP50, 2)}× | ${fmt(results.inFlight.ratioP95, 2)}× |`,
  '',
  `Worker RSS: ${fmt(results.inFlight.workerIdleRssMb)} MB idle (bundled, polling an empty queue), peak ${fmt(results.inFlight.workerPeakRssMb)} MB: **${fmt(results.inFlight.kbPerInFlightRun)} KB per in-flight run** (all ${results.inFlight.runs} were in flight when the worker started).`,
  '',
  '## 3. Critical path (200 ms per tool call, g 600 ms)',
  '',
  `ideal (a→b→d→e→f = a→g→h) ${results.criticalPath.idealMs} ms · measured p50 ${results.criticalPath.measuredP50Ms} ms · ratio **${fmt(results.criticalPath.ratio, 2)}** (waves would give ${results.criticalPath.sumOfWavesMs} ms)`,
  '',
  '## 4. Replay',
  '',
  `${results.replay.histories} histories (${results.replay.events} events, ${results.replay.ok} ok): **${fmt(results.replay.historiesPerSecond)} histories/s**, ${fmt(results.replay.msPer1000Events)} ms per 1,000 events`,
  '',
  '## 5. Cost',
  '',
  '```',
  results.cost,
  '```',
  '',
  `## 6. Tuning (Keel's workload, ${results.tuning.rounds} alternating rounds of ${results.tuning.runsPerRound} runs a side, ${concurrency} at a time)`,
  '',
  '| knob | before | after | runs/s before → after | p50 ms before → after | after / before p50 |',
  '|---|---|---|---|---|---|',
  ...results.tuning.rows.map((row) => `| ${row.knob} | ${row.before.label} | ${row.after.label} | ${fmt(row.before.runsPerSecond)} → ${fmt(row.after.runsPerSecond)} | ${fmt(row.before.p50Ms)} → ${fmt(row.after.p50Ms)} | **${fmt(row.after.p50Ms / row.before.p50Ms, 2)}×** |`),
  '',
  `## 8. Streams (${results.stream.runs} run(s) of ${results.stream.tokensPerRun} tokens, one every ${results.stream.tokenIntervalMs} ms, from a loopback OpenAI-format provider through the real client)`,
  '',
  `From a token leaving the provider to an SSE client of keel serve reading it: p50 **${fmt(results.stream.latencyP50Ms)} ms**, p95 **${fmt(results.stream.latencyP95Ms)} ms** (${results.stream.tokensMeasured} tokens; deltas are batched for up to 100 ms, and readers poll every 100 ms).`,
  `History, as Temporal stores it (protobuf): ${Math.round(results.stream.historyProtoBytesStreamed)} bytes streamed vs ${Math.round(results.stream.historyProtoBytesWhole)} bytes for the same answer sent whole: **${Math.round(results.stream.historyProtoBytesPer1000Tokens)} bytes per 1,000 streamed tokens** (${Math.round(results.stream.deltaBatches)} delta batches, ${Math.round(results.stream.historyProtoBytesPerBatch)} bytes each: a signal and the workflow task it wakes). As \`keel export\` writes it (JSON): ${Math.round(results.stream.historyBytesPer1000Tokens)} bytes per 1,000 tokens.`,

].join('\n');
console.log(md);
writeResults(`bench-${values.quick ? 'quick' : results.date.slice(0, 10)}.json`, results, { overwrite: values.quick, markdown: md });

/**
 * Queues `count` runs (plan → two parallel model tasks → synthesis, each call 1-3 s of scripted
 * latency) before any worker polls, then starts one real `keel worker` process and measures, per
 * run, the time from the worker's start to the run's end against its ideal (its critical path:
 * plan + the slower task + synthesis). Samples the worker's RSS from /proc as it goes.
 */
async function concurrencyBench(address, count) {
  const taskQueue = 'bench-concurrency';
  const keel = await KeelClient.connect({ address, taskQueue });
  let seed = 11;
  const latency = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return 1_000 + Math.floor((seed / 2 ** 31) * 2_000);
  };
  const runs = Array.from({ length: count }, (_, i) => {
    const [plan, a, b, synthesize] = [latency(), latency(), latency(), latency()];
    const llm = (id) => ({ id, kind: 'llm', description: `part ${id}`, dependsOn: [] });
    return {
      idealMs: plan + Math.max(a, b) + synthesize,
      request: {
        goal: `concurrency ${i}`,
        idempotencyKey: `concurrency-${Date.now()}-${i}`,
        scenario: {
          model: {
            plan: [{ tasks: [llm('a'), llm('b')], delayMs: plan }],
            'task:a': [{ text: 'a', delayMs: a }],
            'task:b': [{ text: 'b', delayMs: b }],
            synthesize: [{ text: 'done', delayMs: synthesize }],
          },
        },
      },
    };
  });
  const queuedAt = performance.now();
  for (let i = 0; i < runs.length; i += 100) await Promise.all(runs.slice(i, i + 100).map((run) => keel.startRun(run.request)));
  const queueSeconds = (performance.now() - queuedAt) / 1000;

  const startWorker = (queue) =>
    spawn(process.execPath, [path.join(here, '../bin/keel.js'), 'worker'], {
      env: { ...process.env, TEMPORAL_ADDRESS: address, KEEL_TASK_QUEUE: queue, KEEL_MAX_CONCURRENT_ACTIVITIES: String(Math.max(100, 2 * count)), KEEL_LOG_LEVEL: 'ERROR', KEEL_HOME: '.keel/bench', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  const memory = (field, pid) => {
    try {
      const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
      return line ? Number(line.split(/\s+/)[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  };
  // The same worker with nothing to do (bundled, connected, polling an empty queue): the baseline.
  const idle = startWorker('bench-idle');
  await new Promise((resolve) => setTimeout(resolve, 12_000));
  const idleRss = memory('VmRSS', idle.pid);
  idle.kill('SIGTERM');
  await new Promise((resolve) => idle.once('exit', resolve));

  const worker = startWorker(taskQueue);
  // The clock starts when the worker polls (after it bundled the workflow code and connected).
  while (!(await keel.hasWorkers())) await new Promise((resolve) => setTimeout(resolve, 50));
  const workerStart = performance.now();
  // Thousands of result() long polls would exceed the server's concurrent-poller limit: count the
  // open runs instead, then read each run's close time from visibility.
  const workerStartedAt = Date.now();
  const query = `TaskQueue = "${taskQueue}"`;
  while ((await keel.temporal.workflow.count(`${query} AND ExecutionStatus = "Running"`)).count > 0) await new Promise((resolve) => setTimeout(resolve, 250));
  const totalSeconds = (performance.now() - workerStart) / 1000;
  // The kernel's high-water mark: the worker's peak RSS over its whole life, no sampling needed.
  const peakRss = memory('VmHWM', worker.pid);
  worker.kill('SIGTERM');
  await new Promise((resolve) => worker.once('exit', resolve));
  const ideal = new Map(runs.map((run) => [run.request.idempotencyKey, run.idealMs]));
  const elapsed = [];
  for await (const execution of keel.temporal.workflow.list({ query })) {
    const phase = execution.typedSearchAttributes.get(keelStatusKey);
    if (execution.status.name !== 'COMPLETED' || phase !== 'completed') throw new Error(`concurrency run ${execution.workflowId} ended ${execution.status.name} (${phase})`);
    elapsed.push({ ms: execution.closeTime.getTime() - workerStartedAt, idealMs: ideal.get(execution.workflowId) });
  }
  if (elapsed.length !== count) throw new Error(`${count} concurrency runs started, ${elapsed.length} listed`);
  await keel.close();
  const times = elapsed.map((e) => e.ms).sort((a, b) => a - b);
  const ratios = elapsed.map((e) => e.ms / e.idealMs).sort((a, b) => a - b);
  const ideals = elapsed.map((e) => e.idealMs).sort((a, b) => a - b);
  return {
    runs: count,
    completed: elapsed.length,
    queueSeconds,
    totalSeconds,
    runsPerSecond: count / totalSeconds,
    p50Ms: percentile(times, 50),
    p95Ms: percentile(times, 95),
    idealP50Ms: percentile(ideals, 50),
    idealP95Ms: percentile(ideals, 95),
    ratioP50: percentile(ratios, 50),
    ratioP95: percentile(ratios, 95),
    p95OverIdealP95: percentile(times, 95) / percentile(ideals, 95),
    workerIdleRssMb: idleRss / 1_048_576,
    workerPeakRssMb: peakRss / 1_048_576,
    kbPerInFlightRun: (peakRss - idleRss) / 1024 / count,
  };
}

/**
 * Each knob measured both ways on the same Keel workload (benchmark 1's request), in alternating
 * rounds so that the machine's drift falls on both sides: the dev server's SQLite pragmas (a
 * file-backed server, as `keel dev` runs), workflow threads, and a workflow cache smaller than the
 * runs in flight (evicted runs replay their history on their next task).
 */
async function tuningBench({ binary, connection, address, bundle, quick }) {
  const rounds = quick ? 1 : 3;
  const perRound = quick ? 20 : 60;
  const dependencies = defaultDependencies({ home: '.keel/bench' });
  const side = async (label, target, workerOptions = {}) => {
    const taskQueue = `bench-tune-${Math.random().toString(36).slice(2, 8)}`;
    const workerConnection = target.address === address ? connection : await NativeConnection.connect({ address: target.address });
    const worker = await createKeelWorker({ connection: workerConnection, namespace: 'default', taskQueue, dependencies, workflowBundle: bundle, ...workerOptions });
    const client = await KeelClient.connect({ address: target.address, taskQueue });
    const run = () => runToCompletion(client, `tuning run (${label})`);
    return { label, worker, run, close: async () => { await client.close(); if (workerConnection !== connection) await workerConnection.close(); } };
  };
  const compare = async (knob, before, after) => {
    const sides = [before, after];
    const running = sides.map((each) => each.worker.run());
    try {
      for (const each of sides) await measure('warm-up', 10, each.run);
      const [beforeRow, afterRow] = await interleaved(sides, { rounds, perRound });
      return { knob, before: beforeRow, after: afterRow };
    } finally {
      for (const each of sides) each.worker.shutdown();
      await Promise.all(running);
      for (const each of sides) await each.close();
    }
  };

  const rows = [];
  // keel dev's server keeps runs in a SQLite file: SQLite's own defaults vs Keel's pragmas.
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'keel-bench-sqlite-'));
  const servers = [];
  try {
    for (const [name, sqlitePragmas] of [['defaults', []], ['keel', devSqlitePragmas]]) {
      servers.push(await startDevServer({ binary, databaseFile: path.join(scratch, `${name}.db`), port: await freeLoopbackPort(), uiPort: await freeLoopbackPort(), sqlitePragmas }));
    }
    rows.push(await compare('dev server SQLite file', await side("SQLite's defaults (rollback journal, full sync)", servers[0]), await side(devSqlitePragmas.join(', '), servers[1])));
  } finally {
    for (const server of servers) await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  const memory = { address };
  rows.push(await compare('workflow threads', await side('1 (SDK default)', memory), await side('2', memory, { workflowThreadPoolSize: 2 })));
  rows.push(await compare('workflow cache', await side('SDK default (all runs cached)', memory), await side(`${concurrency / 2} runs (half of those in flight)`, memory, { maxCachedWorkflows: concurrency / 2 })));
  return { rounds, runsPerRound: perRound, rows };
}

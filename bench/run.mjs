// npm run bench [-- --quick]: Keel's overhead against the engine's floor, the critical path, replay
// speed, and cost — ratios measured in one run, on a local dev server started here. Writes
// bench/results/bench-<date>.json and .md. Absolute times depend on the machine; the ratios are the point.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { findTemporalCli } from '../dist/dev-server.js';
import { KeelClient } from '../dist/client.js';
import { createKeelWorker, defaultDependencies, installRuntime } from '../dist/worker.js';
import { parseHistory, replayHistories } from '../dist/replay.js';
import { keelStatusKey } from '../dist/shared/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' } } });
const runs = Number(values.runs ?? (values.quick ? 30 : 200));
const concurrency = 20;

// 8 tasks: a diamond (a → b, c → d) then a chain (d → e → f) and a side chain (a → g → h).
const dag = [
  { id: 'a', dependsOn: [] }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['a'] }, { id: 'd', dependsOn: ['b', 'c'] },
  { id: 'e', dependsOn: ['d'] }, { id: 'f', dependsOn: ['e'] }, { id: 'g', dependsOn: ['a'] }, { id: 'h', dependsOn: ['g'] },
];
// With latency, g is slow (3×): waves would take 200+600+200+200+200 = 1,400 ms, the critical path 1,000.
const keelRequest = (delayMs = 0) => ({
  goal: 'bench',
  tools: ['step', 'slow_step'],
  budgetUsd: 1,
  scenario: {
    model: {
      plan: [{ tasks: dag.map((task) => ({ id: task.id, kind: 'tool', tool: task.id === 'g' ? 'slow_step' : 'step', description: `step ${task.id}`, dependsOn: task.dependsOn })) }],
      synthesize: [{ text: 'done' }],
    },
    tools: { step: [{ result: { ok: true }, ...(delayMs ? { delayMs } : {}) }], slow_step: [{ result: { ok: true }, ...(delayMs ? { delayMs: 3 * delayMs } : {}) }] },
  },
});

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
async function measure(label, count, once) {
  const latencies = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next += 1;
      const t = performance.now();
      await once();
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { label, runs: count, runsPerSecond: count / seconds, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95) };
}

installRuntime({ logLevel: 'WARN', logFormat: 'text' });
const binary = await findTemporalCli({ ...(process.env.TEMPORAL_CLI_PATH ? { explicitPath: process.env.TEMPORAL_CLI_PATH } : {}) });
const env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: binary }, searchAttributes: [keelStatusKey], extraArgs: ['--log-level', 'error'] } });
const address = env.connection.options.address;
const results = { date: new Date().toISOString(), machine: `${process.platform} ${process.arch}, node ${process.version}`, runs, concurrency };
try {
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: env.connection });

  // 1. Overhead: Keel vs the bare-workflow floor vs an in-process executor, same DAG, zero latency.
  const keelBundle = await bundleWorkflowCode({ workflowsPath: path.join(here, '../dist/workflows/index.js'), logger: quiet() });
  const keelWorker = await createKeelWorker({ connection, namespace: 'default', taskQueue: 'bench-keel', dependencies: defaultDependencies({ home: '.keel/bench' }), workflowBundle: keelBundle });
  const keel = await KeelClient.connect({ address, taskQueue: 'bench-keel' });
  const keelRun = () => keel.startRun(keelRequest()).then(({ workflowId }) => keel.getResult(workflowId)).then((result) => {
    if (result.status !== 'completed') throw new Error(`bench run ended ${result.status}: ${result.reason}`);
  });
  const floorWorker = await Worker.create({ connection, taskQueue: 'bench-floor', workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(here, 'floor-workflows.js'), logger: quiet() }), activities: { noop: async () => undefined } });
  let id = 0;
  const floorRun = () => client.workflow.execute('floorDag', { taskQueue: 'bench-floor', workflowId: `floor-${id++}`, args: [dag] });
  const inProcess = async () => {
    const done = new Map();
    const start = (task) => done.get(task.id) ?? done.set(task.id, Promise.all(task.dependsOn.map((dep) => start(dag.find((t) => t.id === dep)))).then(() => undefined)).get(task.id);
    await Promise.all(dag.map(start));
  };
  const [keelStats, floorStats] = await keelWorker.runUntil(() =>
    floorWorker.runUntil(async () => {
      await measure('warm-up', 10, keelRun);
      await measure('warm-up', 10, floorRun);
      return [await measure('keel agentRun', runs, keelRun), await measure('bare Temporal workflow (floor)', runs, floorRun)];
    }),
  );
  const memoryStats = await measure('in-process, no durability', runs, inProcess);
  results.overhead = { rows: [keelStats, floorStats, memoryStats], keelOverFloorP50: keelStats.p50Ms / floorStats.p50Ms, floorOverKeelThroughput: floorStats.runsPerSecond / keelStats.runsPerSecond };

  // 3. Critical path: a→b→d→e→f and a→g(600)→h both take 1,000 ms.
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

  // 4. Replay: the recorded histories, replayed against the current code.
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

  await keel.close();
  await connection.close();
} finally {
  await env.teardown();
}

// 5. Cost: bench/cost.mjs.
results.cost = execFileSync(process.execPath, [path.join(here, 'cost.mjs'), '--runs', String(values.quick ? 40 : 200)], { encoding: 'utf8' }).trim();

const o = results.overhead;
const fmt = (n, d = 1) => n.toFixed(d);
const md = [
  `# Keel benchmarks · ${results.date}`,
  '',
  `${results.machine} · ${runs} runs each, ${concurrency} at a time · local dev server (SQLite)`,
  '',
  '## 1. Overhead vs the floor (8-task DAG, zero-latency tools)',
  '',
  '| executor | runs/s | p50 ms | p95 ms |',
  '|---|---|---|---|',
  ...o.rows.map((row) => `| ${row.label} | ${fmt(row.runsPerSecond)} | ${fmt(row.p50Ms)} | ${fmt(row.p95Ms)} |`),
  '',
  `Keel / floor p50 latency: **${fmt(o.keelOverFloorP50, 2)}×**; floor / Keel throughput: **${fmt(o.floorOverKeelThroughput, 2)}×** (Keel also plans and synthesizes: 10 activities a run to the floor's 8).`,
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
  'Not measured yet: 2,000-run concurrency and memory (benchmark 2).',
].join('\n');
const outDirectory = path.join(here, 'results');
mkdirSync(outDirectory, { recursive: true });
const stamp = values.quick ? 'quick' : results.date.slice(0, 10);
writeFileSync(path.join(outDirectory, `bench-${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(path.join(outDirectory, `bench-${stamp}.md`), `${md}\n`);
console.log(md);

function quiet() {
  return { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
}

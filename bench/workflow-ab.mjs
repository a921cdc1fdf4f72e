// npm run bench:ab -- --base <commit>: Keel's workflow code at another commit against the working
// tree's, on benchmark 1's workloads, in one run. Between runs of the whole bench the floor itself
// moves by more than a change to workflow code is worth (p50 ratios by several hundredths), so a
// change is measured here: both bundles on one dev server, each on its own worker in this process
// (the activities are this tree's), in alternating rounds with the floor. Prints p50, CPU a run
// (this process, each worker's workflow thread, the server) and the ratios; writes
// bench/results/workflow-ab-<date>-<tasks>-tasks.json. --copies N runs N copies of the DAG side by side.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { KeelClient } from '../dist/client/index.js';
import { createKeelWorker, defaultDependencies } from '../dist/worker.js';
import { benchServer, commit, concurrency, dagCopies, interleaved, keelRequest, machine, measure, pipelineRequest, quiet, roundRatios, runToCompletion, serverPid, withNewThreads, writeResults } from './measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const { values } = parseArgs({ options: { base: { type: 'string' }, rounds: { type: 'string', default: '6' }, 'per-round': { type: 'string', default: '60' }, copies: { type: 'string', default: '1' }, quick: { type: 'boolean', default: false } } });
if (!values.base) {
  console.error('usage: npm run bench:ab -- --base <commit> [--rounds 6] [--per-round 60] [--copies 1] [--quick]  (the commit whose workflow code to compare the working tree with)');
  process.exit(2);
}
const base = execFileSync('git', ['rev-parse', '--short', values.base], { cwd: root, encoding: 'utf8' }).trim();
// --quick: one round of 5 runs, so that .ci/run keeps the bench working; its figures mean nothing.
const rounds = values.quick ? 1 : Number(values.rounds);
const perRound = values.quick ? 5 : Number(values['per-round']);
// The plan: benchmark 1's 8-task DAG, or that many copies of it side by side (--copies 3: 24 tasks).
const dag = dagCopies(Number(values.copies));

/**
 * Both sides bundled from TypeScript source (the base's src/ from git, with this tree's
 * node_modules), each with its own bundler options: a side whose src/workflow-bundle.ts preloads
 * the workflow modules (keelBundlerOptions) is bundled with that preload.
 */
async function bundleAt(commit) {
  let source = root;
  let scratch;
  if (commit) {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'keel-ab-'));
    execFileSync('sh', ['-c', `git archive ${commit} src | tar -x -C ${scratch}`], { cwd: root });
    symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
    source = scratch;
  }
  try {
    const workflowsPath = path.join(source, 'src/workflows/index.ts');
    const preloads = /preloadModules: \[keelWorkflowsPath\]/.test(readFileSync(path.join(source, 'src/workflow-bundle.ts'), 'utf8'));
    return await bundleWorkflowCode({ workflowsPath, ...(preloads ? { preloadModules: [workflowsPath] } : {}), logger: quiet() });
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

const { env } = await benchServer();
const address = env.connection.options.address;
try {
  const server = serverPid(address.split(':').at(-1));
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: env.connection });
  const [baseBundle, headBundle, floorBundle] = [await bundleAt(base), await bundleAt(undefined), await bundleWorkflowCode({ workflowsPath: path.join(here, 'floor-workflows.js'), logger: quiet() })];
  const keelWorker = async (taskQueue, workflowBundle) => withNewThreads(() => createKeelWorker({ connection, namespace: 'default', taskQueue, dependencies: defaultDependencies({ home: '.keel/bench' }), workflowBundle }));
  const [[baseWorker, baseThreads], [headWorker, headThreads]] = [await keelWorker('bench-ab-base', baseBundle), await keelWorker('bench-ab-head', headBundle)];
  const [floorWorker, floorThreads] = await withNewThreads(() => Worker.create({ connection, taskQueue: 'bench-ab-floor', workflowBundle: floorBundle, activities: { noop: async () => undefined } }));
  const [baseKeel, headKeel] = [await KeelClient.connect({ address, taskQueue: 'bench-ab-base' }), await KeelClient.connect({ address, taskQueue: 'bench-ab-head' })];
  let id = 0;
  const floor = (type) => () => client.workflow.execute(type, { taskQueue: 'bench-ab-floor', workflowId: `ab-${type}-${id++}`, args: [dag] });
  const executors = [
    { label: `pipeline at ${base}`, run: () => runToCompletion(baseKeel, 'pipeline (base)', pipelineRequest(dag)), threads: baseThreads },
    { label: 'pipeline, working tree', run: () => runToCompletion(headKeel, 'pipeline (working tree)', pipelineRequest(dag)), threads: headThreads },
    { label: 'floor', run: floor('floorDag'), threads: floorThreads },
    { label: `agentRun at ${base}`, run: () => runToCompletion(baseKeel, 'agentRun (base)', keelRequest(0, dag)), threads: baseThreads },
    { label: 'agentRun, working tree', run: () => runToCompletion(headKeel, 'agentRun (working tree)', keelRequest(0, dag)), threads: headThreads },
    { label: 'floor + 2', run: floor('floorAgent'), threads: floorThreads },
  ];
  const rows = await baseWorker.runUntil(() =>
    headWorker.runUntil(() =>
      floorWorker.runUntil(async () => {
        for (const executor of executors) await measure('warm-up', 20, executor.run);
        return interleaved(executors, { rounds, perRound, server });
      }),
    ),
  );
  await baseKeel.close();
  await headKeel.close();
  await connection.close();

  const by = Object.fromEntries(rows.map((row) => [row.label, row]));
  const cpu = (row) => row.workerCpuMsPerRun + row.serverCpuMsPerRun;
  const ratios = (side) => ({
    pipelineOverFloorP50: by[`pipeline${side}`].p50Ms / by.floor.p50Ms,
    pipelineOverFloorCpu: cpu(by[`pipeline${side}`]) / cpu(by.floor),
    agentRunOverFloorPlus2P50: by[`agentRun${side}`].p50Ms / by['floor + 2'].p50Ms,
    agentRunOverFloorPlus2Cpu: cpu(by[`agentRun${side}`]) / cpu(by['floor + 2']),
    pipelineOverFloorRounds: roundRatios(by[`pipeline${side}`], by.floor),
    agentRunOverFloorPlus2Rounds: roundRatios(by[`agentRun${side}`], by['floor + 2']),
  });
  const results = { date: new Date().toISOString(), machine: machine(), base, workingTree: commit(), tasks: dag.length, rounds, perRound, rows, ratios: { base: ratios(` at ${base}`), workingTree: ratios(', working tree') } };
  const fmt = (n, d = 1) => n.toFixed(d);
  console.log(`${results.machine} · ${results.date} · a plan of ${dag.length} tasks · ${rounds} alternating rounds of ${perRound} runs an executor, ${concurrency} at a time`);
  console.log('| executor | p50 ms | CPU ms a run: this process | of which its workflow thread | server |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.label} | ${fmt(row.p50Ms)} | ${fmt(row.workerCpuMsPerRun)} | ${fmt(row.workflowThreadCpuMsPerRun)} | ${fmt(row.serverCpuMsPerRun)} |`);
  for (const [label, r] of [[`at ${base}`, results.ratios.base], ['working tree', results.ratios.workingTree]]) {
    const spread = (rounds) => `rounds ${fmt(rounds.min, 2)}–${fmt(rounds.max, 2)}×`;
    console.log(`${label}: pipeline / floor p50 ${fmt(r.pipelineOverFloorP50, 2)}× (${spread(r.pipelineOverFloorRounds)}; CPU ${fmt(r.pipelineOverFloorCpu, 2)}×), agentRun / (floor + 2) p50 ${fmt(r.agentRunOverFloorPlus2P50, 2)}× (${spread(r.agentRunOverFloorPlus2Rounds)}; CPU ${fmt(r.agentRunOverFloorPlus2Cpu, 2)}×)`);
  }
  writeResults(`workflow-ab-${values.quick ? 'quick' : results.date.slice(0, 10)}-${dag.length}-tasks.json`, results, { overwrite: values.quick });
} finally {
  await env.teardown();
}

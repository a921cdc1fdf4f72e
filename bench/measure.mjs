// What the benchmarks share: the floor's DAG, CPU read from /proc (a process's, a worker's workflow
// threads'), the dev server's process, a quiet bundler logger, and measuring executors in alternating rounds.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { devDynamicConfig, findTemporalCli } from '../dist/servers/dev-server.js';
import { keelStatusKey } from '../dist/shared/index.js';
import { installRuntime } from '../dist/worker.js';

/** Runs in flight at once while a benchmark measures: enough to saturate 2 cores. */
export const concurrency = 20;

// 8 tasks: a diamond (a → b, c → d) then a chain (d → e → f) and a side chain (a → g → h).
export const dag = [
  { id: 'a', dependsOn: [] }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['a'] }, { id: 'd', dependsOn: ['b', 'c'] },
  { id: 'e', dependsOn: ['d'] }, { id: 'f', dependsOn: ['e'] }, { id: 'g', dependsOn: ['a'] }, { id: 'h', dependsOn: ['g'] },
];

/** `copies` side-by-side copies of the DAG (the first keeps its ids, copy k adds k to each): a larger plan of the same shape. */
export const dagCopies = (copies) =>
  Array.from({ length: copies }, (_unused, copy) => dag.map((task) => ({ id: copy ? `${task.id}${copy}` : task.id, dependsOn: task.dependsOn.map((id) => (copy ? `${id}${copy}` : id)) }))).flat();

// CPU a process has used, in ms: utime + stime from /proc/<pid>/stat (clock ticks of 10 ms).
export const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

// The dev server the test environment started: the process whose command line names its port.
export const serverPid = (port) => readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).find((pid) => {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('start-dev') && argv[argv.indexOf('--port') + 1] === port;
  } catch {
    return false;
  }
});

/**
 * The SDK's runtime at WARN and a dev server of its own for a benchmark: Keel's search attribute,
 * the dev dynamic config plus `dynamicConfig`. Returns the test environment and the CLI it ran.
 */
export async function benchServer({ dynamicConfig = [] } = {}) {
  installRuntime({ logLevel: 'WARN', logFormat: 'text' });
  const binary = await findTemporalCli({ ...(process.env.TEMPORAL_CLI_PATH ? { explicitPath: process.env.TEMPORAL_CLI_PATH } : {}) });
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: binary }, searchAttributes: [keelStatusKey], extraArgs: ['--log-level', 'error', ...[...devDynamicConfig, ...dynamicConfig].flatMap((value) => ['--dynamic-config-value', value])] },
  });
  return { env, binary };
}

/** The machine a result was measured on, as results files name it. */
export const machine = () => `${process.platform} ${process.arch}, node ${process.version}, ${os.cpus().length} cores`;

/** The code a result was measured with: this checkout's commit, `+ changes` when its tree differs from it. */
export function commit() {
  const git = (...args) => execFileSync('git', args, { cwd: path.dirname(fileURLToPath(import.meta.url)), encoding: 'utf8' }).trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? ' + changes' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/**
 * bench/results/<name>; when that file exists and `overwrite` is not set, <name>-2, -3, ... before
 * its extension: a second run of the day keeps the first one's figures. Quick runs overwrite.
 */
function resultsFile(name, { overwrite = false } = {}) {
  const directory = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(directory, { recursive: true });
  const extension = path.extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let copy = 1; ; copy++) {
    const file = path.join(directory, copy === 1 ? name : `${stem}-${copy}${extension}`);
    if (overwrite || !existsSync(file)) return file;
  }
}

/**
 * Writes a benchmark's figures to bench/results/<name>.json (see resultsFile), and `markdown`, when
 * given, beside it as .md; says where.
 */
export function writeResults(name, results, { overwrite = false, markdown = undefined } = {}) {
  const file = resultsFile(name, { overwrite });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  if (markdown !== undefined) writeFileSync(file.replace(/\.json$/, '.md'), `${markdown}\n`);
  console.log(`written to ${path.relative(process.cwd(), file)}${markdown !== undefined ? ' and .md' : ''}`);
}

export function quiet() {
  return { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
}

// This process's JavaScript threads ("node"), by id: a worker's workflow threads are the ones its creation added.
const jsThreads = () => new Set(readdirSync('/proc/self/task').filter((tid) => {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'node' && tid !== String(process.pid);
  } catch {
    return false;
  }
}));
export const threadCpuMs = (tids) => [...tids].reduce((sum, tid) => {
  try {
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    return sum + (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return sum;
  }
}, 0);
/** Threads `create` adds to this process, and what it made. */
export async function withNewThreads(create) {
  const before = jsThreads();
  const made = await create();
  return [made, new Set([...jsThreads()].filter((tid) => !before.has(tid)))];
}

/**
 * Measures each executor in `rounds` rounds of `perRound` runs, the order rotating each round so
 * that none always runs first or after the same one, and merges each executor's rounds into one row.
 * Each row keeps its rounds' p50s too (`roundP50Ms`), for `roundRatios`.
 */
export async function interleaved(executors, { rounds, perRound, server }) {
  const totals = executors.map((executor) => ({ label: executor.label, latencies: [], roundP50Ms: [], runs: 0, seconds: 0, workerCpuMs: 0, serverCpuMs: 0, workflowCpuMs: 0 }));
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < executors.length; turn++) {
      const index = (turn + round) % executors.length;
      const total = totals[index];
      const roundLatencies = [];
      const row = await measure(executors[index].label, perRound, executors[index].run, server, concurrency, roundLatencies, executors[index].threads);
      total.latencies.push(...roundLatencies);
      total.roundP50Ms[round] = row.p50Ms;
      total.runs += perRound;
      total.seconds += perRound / row.runsPerSecond;
      if (server) {
        total.workerCpuMs += row.workerCpuMsPerRun * perRound;
        total.serverCpuMs += row.serverCpuMsPerRun * perRound;
      }
      if (row.workflowThreadCpuMsPerRun !== undefined) total.workflowCpuMs += row.workflowThreadCpuMsPerRun * perRound;
    }
  }
  return totals.map((total) => {
    const sorted = [...total.latencies].sort((a, b) => a - b);
    const cpu = server ? { workerCpuMsPerRun: total.workerCpuMs / total.runs, serverCpuMsPerRun: total.serverCpuMs / total.runs } : {};
    if (executors.find((executor) => executor.label === total.label)?.threads) cpu.workflowThreadCpuMsPerRun = total.workflowCpuMs / total.runs;
    return { label: total.label, runs: total.runs, runsPerSecond: total.runs / total.seconds, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), roundP50Ms: total.roundP50Ms, ...cpu };
  });
}

/**
 * How far one p50 ratio moves within a run: `row`'s p50 over `base`'s, round by round (both from
 * one `interleaved` call, so each round's two figures were measured minutes apart at most). The
 * whole run's ratio can sit anywhere in that range; a target inside it is not told apart from noise.
 */
export function roundRatios(row, base) {
  const ratios = row.roundP50Ms.map((p50, round) => p50 / base.roundP50Ms[round]).sort((a, b) => a - b);
  const middle = ratios.length / 2;
  const median = ratios.length % 2 ? ratios[Math.floor(middle)] : (ratios[middle - 1] + ratios[middle]) / 2;
  return { min: ratios[0], median, max: ratios.at(-1), ratios };
}

export const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
export async function measure(label, count, once, server, lanes = concurrency, latencies = [], workflowThreads = undefined) {
  const cpuBefore = { worker: cpuMs('self'), server: server ? cpuMs(server) : 0, workflow: workflowThreads ? threadCpuMs(workflowThreads) : 0 };
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < count) {
      next += 1;
      const t = performance.now();
      await once();
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  // CPU per run: this process (client, worker, workflow thread) and the server's.
  const cpu = server ? { workerCpuMsPerRun: (cpuMs('self') - cpuBefore.worker) / count, serverCpuMsPerRun: (cpuMs(server) - cpuBefore.server) / count } : {};
  if (workflowThreads) cpu.workflowThreadCpuMsPerRun = (threadCpuMs(workflowThreads) - cpuBefore.workflow) / count;
  return { label, runs: count, runsPerSecond: count / seconds, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95), ...cpu };
}

// With latency, g is slow (3×): waves would take 200+600+200+200+200 = 1,400 ms, the critical path 1,000.
export const keelRequest = (delayMs = 0, tasks = dag) => ({
  goal: 'bench',
  tools: ['step', 'slow_step'],
  budgetUsd: 1,
  ...(tasks.length > 20 ? { maxTasks: tasks.length } : {}),
  scenario: {
    model: {
      plan: [{ tasks: tasks.map((task) => ({ id: task.id, kind: 'tool', tool: task.id.startsWith('g') ? 'slow_step' : 'step', description: `step ${task.id}`, dependsOn: task.dependsOn })) }],
      synthesize: [{ text: 'done' }],
    },
    tools: { step: [{ result: { ok: true }, ...(delayMs ? { delayMs } : {}) }], slow_step: [{ result: { ok: true }, ...(delayMs ? { delayMs: 3 * delayMs } : {}) }] },
  },
});

// The same DAG as a pipeline: the request brings the plan and takes its answer from the last task,
// so the run makes exactly the floor's eight activity calls (Keel's machinery against the floor alone).
export const pipelineRequest = (tasks = dag) => {
  const { scenario, ...request } = keelRequest(0, tasks);
  return { ...request, plan: scenario.model.plan[0], outputFrom: 'f', scenario: { model: {}, tools: scenario.tools } };
};

/** One run of benchmark 1's request, start to result; anything but `completed` stops the bench. */
export async function runToCompletion(keel, what, request = keelRequest()) {
  const { workflowId } = await keel.startRun(request);
  const result = await keel.getResult(workflowId);
  if (result.status !== 'completed') throw new Error(`${what} ended ${result.status}: ${result.reason}`);
  return workflowId;
}

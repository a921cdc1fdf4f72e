// npm run bench:features: what each thing a Keel run does beyond the floor costs a run, on the
// floor's 8-task DAG (bench/floor-workflows.js): one `patched()` call (its marker, and the
// TemporalChangeVersion upsert core sends with it), two KeelStatus upserts, one local activity (a
// supplied plan's workerFacts), Keel's activity options (heartbeat timeout, retry policy, summary),
// and activity inputs and a result as large as a pipeline's. 20 runs at a time, in alternating
// rounds; prints p50 and CPU a run (this process and the dev server) for each, and each one's
// difference from the floor, measured in one run. Writes bench/results/feature-cost-<date>.json.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { benchServer, commit, concurrency, dag, interleaved, machine, measure, quiet, serverPid, writeResults } from './measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, 'per-round': { type: 'string', default: '100' }, quick: { type: 'boolean', default: false } } });
// --quick: one round of 5 runs, so that .ci/run keeps the bench working; its figures mean nothing.
const rounds = values.quick ? 1 : Number(values.rounds);
const perRound = values.quick ? 5 : Number(values['per-round']);

const { env } = await benchServer();
try {
  const server = serverPid(env.connection.options.address.split(':').at(-1));
  const connection = await NativeConnection.connect({ address: env.connection.options.address });
  const client = new Client({ connection: env.connection });
  const worker = await Worker.create({
    connection,
    taskQueue: 'bench-features',
    workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(here, 'floor-workflows.js'), logger: quiet() }),
    activities: { noop: async () => undefined, facts: async () => ({ knownTools: ['step', 'slow_step'], ceilings: { small: { inputPerMillion: 0.15, outputPerMillion: 0.6 } } }) },
  });
  let id = 0;
  const run = (type) => () => client.workflow.execute(type, { taskQueue: 'bench-features', workflowId: `bench-features-${id++}`, args: [dag] });
  const executors = [
    { label: 'floor', run: run('floorDag') },
    { label: 'one patched() call', run: run('floorDagPatched') },
    { label: 'two KeelStatus upserts', run: run('floorDagUpserting') },
    { label: 'one local activity', run: run('floorDagLocalActivity') },
    { label: "Keel's activity options", run: run('floorDagKeelOptions') },
    { label: "a pipeline's payload sizes", run: run('floorDagLargePayloads') },
  ];
  const rows = await worker.runUntil(async () => {
    for (const executor of executors) await measure('warm-up', values.quick ? 2 : 40, executor.run);
    return interleaved(executors, { rounds, perRound, server });
  });
  await connection.close();
  const [floor] = rows;
  const cpu = (row) => row.workerCpuMsPerRun + row.serverCpuMsPerRun;
  const fmt = (n, d = 1) => n.toFixed(d);
  const results = { date: new Date().toISOString(), machine: machine(), commit: commit(), tasks: dag.length, rounds, perRound, rows };
  console.log(`${results.machine} · ${results.date} · ${rounds} alternating rounds of ${perRound} runs each, ${concurrency} at a time`);
  console.log('| the floor plus | p50 ms | CPU ms a run: this process | server | total | CPU beyond the floor |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.label} | ${fmt(row.p50Ms)} | ${fmt(row.workerCpuMsPerRun, 2)} | ${fmt(row.serverCpuMsPerRun, 2)} | ${fmt(cpu(row), 2)} | ${row === floor ? '' : `${fmt(cpu(row) - cpu(floor), 2)} ms (process ${fmt(row.workerCpuMsPerRun - floor.workerCpuMsPerRun, 2)}, server ${fmt(row.serverCpuMsPerRun - floor.serverCpuMsPerRun, 2)})`} |`);
  writeResults(`feature-cost-${values.quick ? 'quick' : results.date.slice(0, 10)}.json`, results, { overwrite: values.quick });
} finally {
  await env.teardown();
}

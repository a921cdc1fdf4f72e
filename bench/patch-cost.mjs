// npm run bench:patch: what one `patched()` call costs a run. Behaviour changes in workflow code go
// behind patched() so recorded histories keep replaying; the SDK records a marker for each patch a
// run meets and upserts the TemporalChangeVersion search attribute. This runs the floor's 8-task
// DAG (bench/floor-workflows.js) with and without one patch, 20 at a time, in alternating rounds,
// and prints p50 and CPU a run (this process and the dev server) for each, measured in one run.
// Writes nothing: the figures quoted in docs come from a copy in bench/results/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { benchServer, dag, interleaved, measure, quiet, serverPid } from './measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '12' }, 'per-round': { type: 'string', default: '100' } } });
const rounds = Number(values.rounds);
const perRound = Number(values['per-round']);

const { env } = await benchServer();
try {
  const server = serverPid(env.connection.options.address.split(':').at(-1));
  const connection = await NativeConnection.connect({ address: env.connection.options.address });
  const client = new Client({ connection: env.connection });
  const worker = await Worker.create({ connection, taskQueue: 'bench-patch', workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(here, 'floor-workflows.js'), logger: quiet() }), activities: { noop: async () => undefined } });
  let id = 0;
  const run = (type) => () => client.workflow.execute(type, { taskQueue: 'bench-patch', workflowId: `bench-patch-${id++}`, args: [dag] });
  const executors = [
    { label: 'floor', run: run('floorDag') },
    { label: 'floor behind one patched() call', run: run('floorDagPatched') },
  ];
  const rows = await worker.runUntil(async () => {
    for (const executor of executors) await measure('warm-up', 40, executor.run);
    return interleaved(executors, { rounds, perRound, server });
  });
  await connection.close();
  const [plain, patched] = rows;
  const cpu = (row) => row.workerCpuMsPerRun + row.serverCpuMsPerRun;
  const fmt = (n, d = 1) => n.toFixed(d);
  console.log(`${process.platform} ${process.arch}, node ${process.version} · ${new Date().toISOString()} · ${rounds} alternating rounds of ${perRound} runs a side, 20 at a time`);
  console.log('| | p50 ms | CPU ms a run: this process | server | total |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.label} | ${fmt(row.p50Ms)} | ${fmt(row.workerCpuMsPerRun, 2)} | ${fmt(row.serverCpuMsPerRun, 2)} | ${fmt(cpu(row), 2)} |`);
  console.log(`One patch: p50 ${fmt(patched.p50Ms / plain.p50Ms, 3)}×, CPU a run ${fmt(cpu(patched) - cpu(plain), 2)} ms (${fmt((cpu(patched) / cpu(plain) - 1) * 100, 1)} %).`);
} finally {
  await env.teardown();
}

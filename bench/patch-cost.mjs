// npm run bench:patch: what one `patched()` call costs a run. Behaviour changes in workflow code go
// behind patched() so recorded histories keep replaying; the SDK records a marker for each patch a
// run meets and upserts the TemporalChangeVersion search attribute. This runs the floor's 8-task
// DAG (bench/floor-workflows.js) with and without one patch, 20 at a time, in alternating rounds,
// and prints p50 and CPU a run (this process and the dev server) for each, measured in one run.
// Writes nothing: the figures quoted in docs come from a copy in bench/results/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { devDynamicConfig, findTemporalCli } from '../dist/servers/dev-server.js';
import { installRuntime } from '../dist/worker.js';
import { cpuMs, dag, quiet, serverPid } from './measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '12' }, 'per-round': { type: 'string', default: '100' } } });
const rounds = Number(values.rounds);
const perRound = Number(values['per-round']);

installRuntime({ logLevel: 'WARN', logFormat: 'text' });
const binary = await findTemporalCli({ ...(process.env.TEMPORAL_CLI_PATH ? { explicitPath: process.env.TEMPORAL_CLI_PATH } : {}) });
const env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: binary }, extraArgs: ['--log-level', 'error', ...devDynamicConfig.flatMap((value) => ['--dynamic-config-value', value])] } });
try {
  const server = serverPid(env.connection.options.address.split(':').at(-1));
  const connection = await NativeConnection.connect({ address: env.connection.options.address });
  const client = new Client({ connection: env.connection });
  const worker = await Worker.create({ connection, taskQueue: 'bench-patch', workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(here, 'floor-workflows.js'), logger: quiet() }), activities: { noop: async () => undefined } });
  const sides = { floorDag: { cpu: 0, server: 0, runs: 0, latencies: [] }, floorDagPatched: { cpu: 0, server: 0, runs: 0, latencies: [] } };
  let id = 0;
  const lanes = async (type, count, latencies = []) => {
    let next = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < count) {
        next += 1;
        const started = performance.now();
        await client.workflow.execute(type, { taskQueue: 'bench-patch', workflowId: `bench-patch-${id++}`, args: [dag] });
        latencies.push(performance.now() - started);
      }
    }));
  };
  await worker.runUntil(async () => {
    for (const type of Object.keys(sides)) await lanes(type, 40); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const type of round % 2 === 0 ? ['floorDagPatched', 'floorDag'] : ['floorDag', 'floorDagPatched']) {
        const side = sides[type];
        const before = { cpu: cpuMs('self'), server: cpuMs(server) };
        await lanes(type, perRound, side.latencies);
        side.cpu += cpuMs('self') - before.cpu;
        side.server += cpuMs(server) - before.server;
        side.runs += perRound;
      }
    }
  });
  await connection.close();
  const row = (side) => {
    const sorted = [...side.latencies].sort((a, b) => a - b);
    return { p50Ms: sorted[Math.floor(sorted.length / 2)], processCpuMs: side.cpu / side.runs, serverCpuMs: side.server / side.runs };
  };
  const [plain, patched] = [row(sides.floorDag), row(sides.floorDagPatched)];
  const fmt = (n, d = 1) => n.toFixed(d);
  console.log(`${process.platform} ${process.arch}, node ${process.version} · ${new Date().toISOString()} · ${rounds} alternating rounds of ${perRound} runs a side, 20 at a time`);
  console.log('| | p50 ms | CPU ms a run: this process | server | total |');
  console.log('|---|---|---|---|---|');
  for (const [label, r] of [['floor', plain], ['floor behind one patched() call', patched]]) console.log(`| ${label} | ${fmt(r.p50Ms)} | ${fmt(r.processCpuMs, 2)} | ${fmt(r.serverCpuMs, 2)} | ${fmt(r.processCpuMs + r.serverCpuMs, 2)} |`);
  console.log(`One patch: p50 ${fmt(patched.p50Ms / plain.p50Ms, 3)}×, CPU a run ${fmt(patched.processCpuMs + patched.serverCpuMs - plain.processCpuMs - plain.serverCpuMs, 2)} ms (${fmt(((patched.processCpuMs + patched.serverCpuMs) / (plain.processCpuMs + plain.serverCpuMs) - 1) * 100, 1)} %).`);
} finally {
  await env.teardown();
}

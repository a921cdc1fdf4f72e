// keel record-histories: runs every example scenario on a private dev server and writes its history,
// for the determinism gate (test/histories). Re-record when a change to the workflow is meant to
// change behaviour for new runs and no old runs remain; use patched() while they do.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { KeelClient } from '../client';
import { loadConfig } from '../config';
import { findTemporalCli, startDevServer } from '../servers/dev-server';
import { runScenarioToEnd } from '../testing/scenario-runner';
import { parseScenario } from '../shared';
import { createKeelWorker, defaultDependencies, installRuntime } from '../worker';
import { CliError, ExitCode } from './cli-error';
import { freeLoopbackPort } from './ports';
import type { CliIo } from './io';

export async function recordHistoriesCommand(options: { examples: string; out: string }, io: CliIo): Promise<number> {
  const files = readdirSync(options.examples).filter((file) => file.endsWith('.json')).sort();
  if (files.length === 0) throw new CliError(`no scenario files in ${options.examples}`);
  const config = loadConfig();
  installRuntime(config);
  const home = mkdtempSync(path.join(os.tmpdir(), 'keel-record-'));
  const binary = await findTemporalCli({ ...(config.temporalCliPath ? { explicitPath: config.temporalCliPath } : {}), log: io.err });
  const server = await startDevServer({ binary, databaseFile: path.join(home, 'temporal.db'), port: await freeLoopbackPort(), uiPort: await freeLoopbackPort() });
  const connection = await NativeConnection.connect({ address: server.address });
  const taskQueue = 'keel-record';
  const worker = await createKeelWorker({ connection, namespace: 'default', taskQueue, dependencies: defaultDependencies({ home }) });
  const client = await KeelClient.connect({ address: server.address, namespace: 'default', taskQueue });
  mkdirSync(options.out, { recursive: true });
  try {
    await worker.runUntil(async () => {
      for (const file of files) {
        const name = file.replace(/\.json$/, '');
        const { request, expect } = parseScenario(readFileSync(path.join(options.examples, file), 'utf8'), file);
        const result = await runScenarioToEnd(client, { ...request, idempotencyKey: `history-${name}` }, expect?.decisions ?? []);
        writeFileSync(path.join(options.out, `${name}.json`), `${await client.exportHistory(result.workflowId)}\n`);
        io.out(`recorded ${name} (${result.status})`);
      }
    });
  } finally {
    await client.close();
    await connection.close();
    await server.stop();
  }
  return ExitCode.ok;
}

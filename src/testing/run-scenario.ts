// `keel/testing`: run a scenario (a scripted model and tools, no keys) to its end from your own test
// suite, on a real Temporal dev server and a real Keel worker with your tools, and get its RunResult.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IllegalStateError } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { KeelClient } from '../client';
import { loadConfig, type KeelConfig } from '../config';
import { KeelPlugin } from '../keel-plugin';
import { installRuntime } from '../worker';
import { freeLoopbackPort } from '../cli/ports';
import { findTemporalCli, startDevServer, type DevServer } from '../servers/dev-server';
import { parseScenario, type Decision, type RunResult } from '../shared';
import type { ToolDefinition } from '../tools';
import { bundleKeelWorkflows } from '../workflow-bundle';
import { runScenarioToEnd } from './scenario-runner';

export interface RunScenarioOptions {
  /**
   * The environment Keel reads its settings from (default: process.env). `KEEL_TEST_TEMPORAL_ADDRESS`
   * names a Temporal server to use; without it, a local dev server is started once for the process
   * (the `temporal` CLI found or built as `keel dev` does) and stopped when the process exits.
   */
  env?: NodeJS.ProcessEnv;
  /** Your tools, as your worker offers them; a scenario's scripted tools need none. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each tool has its own input type
  tools?: ReadonlyArray<ToolDefinition<any, any>>;
  /** Decisions for the run's escalations, in order; default: the scenario's `expect.decisions`. */
  decisions?: Decision[];
}

/** A scenario file's path, or its content as an object; runs it to its end and returns its result. */
export async function runScenario(scenario: string | Record<string, unknown>, options: RunScenarioOptions = {}): Promise<RunResult> {
  const source = typeof scenario === 'string' ? scenario : 'the scenario object';
  const parsed = parseScenario(typeof scenario === 'string' ? readFileSync(scenario, 'utf8') : JSON.stringify(scenario), source);
  const env = options.env ?? process.env;
  const address = env.KEEL_TEST_TEMPORAL_ADDRESS ?? (await localServer(env)).address;
  const taskQueue = `keel-scenario-${randomUUID()}`;
  const config = loadConfig({ ...env, TEMPORAL_ADDRESS: address, KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: env.KEEL_HOME ?? scratch() });
  quietRuntime(config);
  const connection = await NativeConnection.connect({ address });
  const client = await KeelClient.connect({ address, namespace: config.namespace, taskQueue });
  try {
    const plugin = await KeelPlugin.create({ config, ...(options.tools ? { tools: options.tools } : {}), log: () => undefined });
    const worker = await Worker.create({ connection, namespace: config.namespace, taskQueue, workflowBundle: await workflowBundle(config.logLevel), plugins: [plugin] }).catch(async (error: unknown) => {
      await plugin.close();
      throw error;
    });
    return await worker.runUntil(runScenarioToEnd(client, { ...parsed.request, idempotencyKey: `${parsed.name}-${randomUUID()}` }, options.decisions ?? parsed.expect?.decisions ?? []));
  } finally {
    await client.close();
    await connection.close();
  }
}

let runtimeChosen = false;
/**
 * The SDK's runtime at KEEL_LOG_LEVEL (default WARN), as `keel worker` has it, so a test suite does
 * not print each worker's and each run's INFO lines; left alone when the process already has one.
 */
function quietRuntime(config: KeelConfig): void {
  if (runtimeChosen) return;
  runtimeChosen = true;
  try {
    installRuntime(config);
  } catch (error) {
    if (!(error instanceof IllegalStateError)) throw error;
  }
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Keel's workflows, bundled once for the process; the bundler's build report only at KEEL_LOG_LEVEL=INFO or below (default WARN). */
function workflowBundle(level: KeelConfig['logLevel']): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleKeelWorkflows({ logger: new DefaultLogger(level) });
  return bundle;
}

let server: Promise<DevServer> | undefined;
/** One dev server for the process, on free ports, its history in a temporary directory; stopped at exit. */
function localServer(env: NodeJS.ProcessEnv): Promise<DevServer> {
  server ??= (async () => {
    const binary = await findTemporalCli({ ...(env.TEMPORAL_CLI_PATH ? { explicitPath: env.TEMPORAL_CLI_PATH } : {}), log: (line) => process.stderr.write(`${line}\n`) });
    // The server is not part of the work a test waits for: the process may exit while it runs (unref).
    const started = await startDevServer({ binary, databaseFile: path.join(scratch(), 'temporal.db'), port: await freeLoopbackPort(), uiPort: await freeLoopbackPort(), unref: true, log: (line) => process.stderr.write(`${line}\n`) });
    process.once('exit', () => started.process.kill('SIGKILL'));
    return started;
  })();
  return server;
}

function scratch(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'keel-scenario-'));
}

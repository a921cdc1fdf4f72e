// One real Temporal dev server and one workflow bundle for the whole test run.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleKeelWorkflows } from '../src/workflow-bundle';
import { devDynamicConfig, findTemporalCli } from '../src/servers/dev-server';
import { freePort } from './helpers/cli';
import { keelStatusKey } from '../src/shared';

export default async function globalSetup(): Promise<void> {
  const stateDirectory = path.resolve(__dirname, '../.keel/test');
  mkdirSync(stateDirectory, { recursive: true });
  const binary = await findTemporalCli({
    ...(process.env.TEMPORAL_CLI_PATH ? { explicitPath: process.env.TEMPORAL_CLI_PATH } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  // The dev server picks free ports for its own services too; a rare clash with the UI port we
  // chose makes it fail to start, so try again with fresh ports.
  let uiPort = 0;
  let environment: TestWorkflowEnvironment | undefined;
  for (let attempt = 1; !environment; attempt++) {
    uiPort = await freePort();
    try {
      environment = await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: binary },
          ui: true,
          uiPort,
          searchAttributes: [keelStatusKey],
          extraArgs: ['--log-level', 'error', ...devDynamicConfig.flatMap((value) => ['--dynamic-config-value', value])],
        },
      });
    } catch (error) {
      if (attempt >= 3) throw error;
      process.stderr.write(`the test dev server did not start (attempt ${attempt}); retrying: ${(error as Error).message}\n`);
    }
  }
  const bundle = await bundleKeelWorkflows({
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never,
  });
  const bundlePath = path.join(stateDirectory, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.KEEL_TEST_TEMPORAL_ADDRESS = environment.address;
  process.env.KEEL_TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.KEEL_TEST_TEMPORAL_CLI = binary;
  process.env.KEEL_TEST_UI_URL = `http://127.0.0.1:${uiPort}`;
  (globalThis as { keelTestEnvironment?: TestWorkflowEnvironment }).keelTestEnvironment = environment;
}

// One real Temporal dev server and one workflow bundle for the whole test run.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleKeelWorkflows } from '../src/workflow-bundle';
import { findTemporalCli, startDevServer, type DevServer } from '../src/servers/dev-server';
import { freeLoopbackPort } from '../src/cli/ports';

export default async function globalSetup(): Promise<void> {
  const stateDirectory = path.resolve(__dirname, '../.keel/test');
  mkdirSync(stateDirectory, { recursive: true });
  const binary = await findTemporalCli({
    ...(process.env.TEMPORAL_CLI_PATH ? { explicitPath: process.env.TEMPORAL_CLI_PATH } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  // Keel's own dev server, as `keel dev` runs it: it restarts itself on the same file if its
  // database gets stuck (see startDevServer). The file is in memory where the machine has /dev/shm.
  const databaseDirectory = existsSync('/dev/shm') ? '/dev/shm' : stateDirectory;
  const databaseFile = path.join(databaseDirectory, `keel-test-${process.pid}.db`);
  let uiPort = 0;
  let server: DevServer | undefined;
  for (let attempt = 1; !server; attempt++) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${databaseFile}${suffix}`, { force: true });
    uiPort = await freeLoopbackPort();
    try {
      server = await startDevServer({ binary, databaseFile, port: await freeLoopbackPort(), uiPort, namespace: 'default', log: (line) => process.stderr.write(`${line}\n`) });
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
  process.env.KEEL_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.KEEL_TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.KEEL_TEST_TEMPORAL_CLI = binary;
  process.env.KEEL_TEST_UI_URL = `http://127.0.0.1:${uiPort}`;
  Object.assign(globalThis, { keelTestServer: server, keelTestDatabase: databaseFile });
}

// `keel dev`: the dev server (SQLite under KEEL_HOME, Web UI) and a worker in this process,
// optionally running a scenario; Ctrl-C stops everything.
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { KeelClient } from '../client';
import { AesGcmCodec } from '../security/codec';
import { createCodecServer } from '../security/codec-server';
import { loadConfig } from '../config';
import { findTemporalCli, startDevServer } from '../servers/dev-server';
import { createConfiguredWorker } from '../keel-plugin';
import { describeModelProvider, installRuntime } from '../worker';
import { CliError, ExitCode } from './cli-error';
import { followRun } from './follow';
import { loadRequest } from './load-request';
import { listenAddress } from './ports';
import { runUrl, uiUrl } from './urls';
import type { CliIo } from './io';

export async function devCommand(options: { run?: string }, io: CliIo): Promise<number> {
  const config = loadConfig();
  const request = options.run ? loadRequest(undefined, { scenario: options.run }) : undefined; // fail on a bad file before starting anything
  const port = Number(config.temporalAddress.split(':').pop());
  if (!/^(localhost|127\.0\.0\.1):/.test(config.temporalAddress)) {
    // The address came from TEMPORAL_ADDRESS, or else from a profile of the connection config file.
    const where = process.env.TEMPORAL_ADDRESS
      ? `TEMPORAL_ADDRESS is ${config.temporalAddress}: unset it`
      : `the connection profile "${config.temporal.profile ?? 'default'}" (TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml) points at ${config.temporalAddress}: run it with TEMPORAL_ADDRESS=localhost:7233 or a local TEMPORAL_PROFILE`;
    throw new CliError(`keel dev starts a local server, but ${where}, or run \`keel worker\` against that server`);
  }
  installRuntime(config);
  const binary = await findTemporalCli({ ...(config.temporalCliPath ? { explicitPath: config.temporalCliPath } : {}), log: io.err });
  const databaseFile = path.join(config.home, 'temporal.db');
  // With encrypted history the UI reads payloads through a codec server run here.
  const codecServer = config.codecKeys ? createCodecServer({ codec: new AesGcmCodec(config.codecKeys), allowedOrigins: [new URL(uiUrl(config)).origin] }) : undefined;
  if (codecServer) await codecServer.listen(listenAddress(config.codecAddress));
  const server = await startDevServer({
    binary,
    databaseFile,
    port,
    uiPort: config.uiPort,
    namespace: config.namespace,
    ...(codecServer ? { codecEndpoint: `http://${config.codecAddress}` } : {}),
    log: io.err,
  });
  const connection = await NativeConnection.connect({ address: server.address });
  const { worker, close: closeWorkerResources } = await createConfiguredWorker(connection, config, io.err).catch(async (error: unknown) => {
    await connection.close();
    await server.stop(); // a refused key or a bad config must not leave the server behind
    await codecServer?.close();
    throw error;
  });
  const running = worker.run();
  io.out(`Temporal dev server ${server.address} (history in ${path.relative(process.cwd(), databaseFile) || databaseFile})`);
  io.out(`Web UI              ${uiUrl(config)}${codecServer ? ` (payloads encrypted; decoded through http://${config.codecAddress})` : ''}`);
  io.out(`Worker              task queue "${config.taskQueue}"`);
  io.out(`Models              ${describeModelProvider(config)}`);

  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  let exitCode: number = ExitCode.ok;
  try {
    if (request) {
      const client = await KeelClient.connect({ address: server.address, namespace: config.namespace, taskQueue: config.taskQueue });
      try {
        const started = await client.startRun(request);
        io.out(`\nRunning ${options.run} as ${started.workflowId}${started.attached ? ' (attached to the existing run)' : ''}\n`);
        const result = await Promise.race([followRun(client, started.workflowId, io.out, 300, io.partial), stopped.then(() => undefined)]);
        if (result) {
          io.out(`\nSee it in the Web UI: ${runUrl(config, started.workflowId)}`);
          exitCode = result.status === 'completed' || result.status === 'partial' ? ExitCode.ok : ExitCode.runUnsuccessful;
        }
      } finally {
        await client.close();
      }
    }
    io.out(`\nServer and worker are running. Try: npx keel run --scenario examples/flaky-tools.json --wait   ·   Ctrl-C stops everything.`);
    await Promise.race([stopped, running]);
  } finally {
    io.err('stopping the worker and the dev server…');
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await closeWorkerResources();
    await connection.close();
    await server.stop();
    await codecServer?.close();
  }
  return exitCode;
}

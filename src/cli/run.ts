import os from 'node:os';
import { KeelClient } from '../client';
import { loadConfig } from '../config';
import { clientTelemetryFromEnvironment } from '../observability/telemetry';
import { ExitCode } from './cli-error';
import { followRun } from './follow';
import { loadRequest, type RunCommandOptions } from './load-request';
import { runUrl } from './urls';
import type { CliIo } from './io';

export interface RunOptions extends RunCommandOptions {
  wait?: boolean;
  json?: boolean;
  /** Print the run's live stream as JSON lines (and wait for it to end). */
  events?: boolean;
  /** Attach to this run, already started, instead of starting one. */
  follow?: string;
}

export async function runCommand(goal: string | undefined, options: RunOptions, io: CliIo): Promise<number> {
  if (options.follow !== undefined) return followCommand(options.follow, options, io);
  const request = loadRequest(goal, options);
  // With OTEL_* set, the run's trace starts here, at the client.
  const telemetry = clientTelemetryFromEnvironment();
  const client = await KeelClient.connect({ plugins: telemetry.plugins, door: 'cli' });
  try {
    // A person at a terminal: a signed start names them, not the process.
    const started = await client.startRun(request, { as: { by: `${os.userInfo().username}@${os.hostname()}` } });
    const config = loadConfig();
    if (started.attached) io.err(`attached to the existing run ${started.workflowId} (same idempotency key); nothing new was started`);
    if (!(await client.hasWorkers())) {
      io.err(`no worker is polling task queue "${client.taskQueue}" yet — start one with \`keel worker\` (the run waits until then)`);
    }
    if (options.events) return await printEvents(client, started.workflowId, io);
    if (!options.wait) {
      if (options.json) io.json(started, 0);
      else io.out(`started ${started.workflowId}\n  follow it: keel status ${started.workflowId}\n  Web UI:    ${runUrl(config, started.workflowId)}`);
      return ExitCode.ok;
    }
    const result = options.json ? await client.getResult(started.workflowId) : await followRun(client, started.workflowId, io.out, 300, io.partial);
    if (options.json) io.json(result);
    else io.out(`Web UI: ${runUrl(config, started.workflowId)}`);
    return result.status === 'completed' || result.status === 'partial' ? ExitCode.ok : ExitCode.runUnsuccessful;
  } finally {
    await client.close();
    await telemetry.flush().catch((error: unknown) => io.err(`could not export the trace: ${(error as Error).message}`));
  }
}

/** `keel run --follow ID`: a run already started, followed as `--wait` follows one (or as `--events`, `--json` say). */
async function followCommand(workflowId: string, options: RunOptions, io: CliIo): Promise<number> {
  const client = await KeelClient.connect({ door: 'cli' });
  try {
    await client.getRunDescription(workflowId);
    if (options.events) return await printEvents(client, workflowId, io);
    const result = options.json ? await client.getResult(workflowId) : await followRun(client, workflowId, io.out, 300, io.partial);
    if (options.json) io.json(result);
    return exitFor(result.status);
  } finally {
    await client.close();
  }
}

/** `--events`: the run's live stream as JSON lines, to its end; the exit code says how the run ended. */
async function printEvents(client: KeelClient, workflowId: string, io: CliIo): Promise<number> {
  let status: string | undefined;
  for await (const event of client.events(workflowId)) {
    io.json(event, 0);
    if (event.type === 'run.ended') status = event.status;
  }
  return exitFor(status);
}

function exitFor(status: string | undefined): number {
  return status === 'completed' || status === 'partial' ? ExitCode.ok : ExitCode.runUnsuccessful;
}

// keel replay ID|FILE...: one line per history, ok or nondeterministic with the fix; non-zero if any fails.
import { KeelClient, RunNotFoundError } from '../client';
import { AesGcmCodec } from '../security/codec';
import { InvalidHistoryError, parseHistory, replayHistories, workflowIdOf, nondeterminismAdvice, type HistorySource } from '../trace/replay';
import { loadConfig } from '../config';
import { installRuntime } from '../worker';
import { keelBundlerOptions, keelWorkflowsPath } from '../workflow-bundle';
import { CliError, ExitCode } from './cli-error';
import { readHistoryTarget } from './history-target';
import type { CliIo } from './io';

export async function replayCommand(targets: string[], io: CliIo): Promise<number> {
  installRuntime(loadConfig());
  const sources: HistorySource[] = [];
  // A file that is not a whole history is reported on its own line; the others still replay.
  const invalid: string[] = [];
  let client: KeelClient | undefined;
  try {
    for (const target of targets) {
      try {
        const { json, fromFile } = await readHistoryTarget(target, async () => (client ??= await KeelClient.connect()));
        const history = parseHistory(json, target);
        sources.push({ source: target, workflowId: fromFile ? workflowIdOf(history, target) : target, history });
      } catch (error) {
        if (!(error instanceof InvalidHistoryError || error instanceof RunNotFoundError || error instanceof CliError)) throw error;
        invalid.push(`invalid           ${target}: ${error instanceof InvalidHistoryError ? error.problem : error.message}`);
      }
    }
  } finally {
    await client?.close();
  }
  for (const line of invalid) io.out(line);
  const { codecKeys } = loadConfig();
  const outcomes = await replayHistories(sources, {
    workflowsPath: keelWorkflowsPath,
    bundlerOptions: keelBundlerOptions,
    ...(codecKeys ? { dataConverter: { payloadCodecs: [new AesGcmCodec(codecKeys)] } } : {}),
  });
  for (const outcome of outcomes) {
    if (outcome.ok) {
      io.out(`ok                ${outcome.source}`);
      continue;
    }
    io.out(`${outcome.nondeterministic ? 'nondeterministic' : 'failed          '}  ${outcome.source}${outcome.eventId ? ` (event ${outcome.eventId})` : ''}`);
    if (outcome.recorded || outcome.codeDid) {
      io.out(`    at event ${outcome.eventId ?? '?'} the history recorded ${outcome.recorded ?? 'something else'}; the code now produced ${outcome.codeDid ? `a ${outcome.codeDid} command` : 'a different command'}`);
    }
    io.out(`    ${outcome.message}`);
    if (outcome.nondeterministic) io.out(`    fix: ${nondeterminismAdvice}`);
  }
  const failed = outcomes.filter((outcome) => !outcome.ok).length + invalid.length;
  const total = outcomes.length + invalid.length;
  io.err(`${total - failed} of ${total} histories replayed cleanly`);
  const code = failed === 0 ? ExitCode.ok : ExitCode.runUnsuccessful;
  // A replayer that stopped answering keeps the process alive for ever: end it once this is said.
  if (outcomes.stuck) setTimeout(() => process.exit(code), 500).unref();
  return code;
}

// keel replay ID|FILE...: one line per history, ok or nondeterministic with the fix; non-zero if any fails.
import { existsSync, readFileSync } from 'node:fs';
import { KeelClient } from '../client';
import { AesGcmCodec } from '../codec';
import { parseHistory, replayHistories, workflowIdOf, nondeterminismAdvice, type HistorySource } from '../replay';
import { loadConfig } from '../config';
import { installRuntime } from '../worker';
import { keelWorkflowsPath } from '../workflow-bundle';
import { ExitCode } from './cli-error';
import type { CliIo } from './io';

export async function replayCommand(targets: string[], io: CliIo): Promise<number> {
  installRuntime(loadConfig());
  const sources: HistorySource[] = [];
  let client: KeelClient | undefined;
  try {
    for (const target of targets) {
      if (existsSync(target)) {
        const history = parseHistory(readFileSync(target, 'utf8'), target);
        sources.push({ source: target, workflowId: workflowIdOf(history, target), history });
      } else {
        client ??= await KeelClient.connect();
        const history = parseHistory(await client.exportHistory(target), target);
        sources.push({ source: target, workflowId: target, history });
      }
    }
  } finally {
    await client?.close();
  }
  const { codecKeys } = loadConfig();
  const outcomes = await replayHistories(sources, {
    workflowsPath: keelWorkflowsPath,
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
  const failed = outcomes.filter((outcome) => !outcome.ok).length;
  io.err(`${outcomes.length - failed} of ${outcomes.length} histories replayed cleanly`);
  return failed === 0 ? ExitCode.ok : ExitCode.runUnsuccessful;
}

// keel trace ID|FILE [--html FILE]: the run's timeline from its history alone (no worker needed).
import { writeFileSync } from 'node:fs';
import { KeelClient } from '../client';
import { AesGcmCodec, decryptHistory } from '../security/codec';
import { loadConfig } from '../config';
import { parseHistory } from '../trace/replay';
import { renderTimelineHtml } from '../trace/render-html';
import { renderTimelineText } from '../trace/render-text';
import { buildTimeline, type Timeline } from '../trace/timeline';
import { blobStoreFor, withStoredOutput, type BlobStore } from '../storage/blobs';
import { ExitCode } from './cli-error';
import { readHistoryTarget } from './history-target';
import type { CliIo } from './io';

export async function traceCommand(target: string, options: { html?: string }, io: CliIo): Promise<number> {
  let client: KeelClient | undefined;
  let json: string;
  try {
    ({ json } = await readHistoryTarget(target, async () => (client = await KeelClient.connect())));
  } finally {
    await client?.close();
  }
  const config = loadConfig();
  let history = parseHistory(json, target);
  if (config.codecKeys) history = await decryptHistory(history, new AesGcmCodec(config.codecKeys));
  const timeline = await withStoredAnswer(buildTimeline(history), () => blobStoreFor({ home: config.home, databaseUrl: config.models.cache.databaseUrl }));
  io.out(renderTimelineText(timeline));
  if (options.html) {
    writeFileSync(options.html, renderTimelineHtml(timeline));
    io.err(`wrote ${options.html}`);
  }
  return ExitCode.ok;
}

/** The page shows the final answer; one too large for history is read back from the blob store. */
export async function withStoredAnswer(timeline: Timeline, openStore: () => BlobStore): Promise<Timeline> {
  if (!timeline.result?.outputRef) return timeline;
  const store = openStore();
  try {
    return { ...timeline, result: await withStoredOutput(timeline.result, store) };
  } finally {
    await store.close();
  }
}

// keel trace ID|FILE [--html FILE]: the run's timeline from its history alone (no worker needed).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { KeelClient } from '../client';
import { AesGcmCodec, decryptHistory } from '../codec';
import { loadConfig } from '../config';
import { parseHistory } from '../replay';
import { renderTimelineHtml } from '../trace/render-html';
import { renderTimelineText } from '../trace/render-text';
import { buildTimeline, type Timeline } from '../trace/timeline';
import { blobStoreFor, resolveRefs, type BlobStore } from '../blobs';
import { ExitCode } from './cli-error';

export async function traceCommand(target: string, options: { html?: string }, io: { out: (text: string) => void; err: (text: string) => void }): Promise<number> {
  let json: string;
  if (existsSync(target)) {
    json = readFileSync(target, 'utf8');
  } else {
    const client = await KeelClient.connect();
    try {
      json = await client.exportHistory(target);
    } finally {
      await client.close();
    }
  }
  const config = loadConfig();
  let history = parseHistory(json, target);
  if (config.codecKeys) history = await decryptHistory(history, new AesGcmCodec(config.codecKeys));
  const timeline = await withStoredOutput(buildTimeline(history), blobStoreFor({ home: config.home, databaseUrl: config.models.cache.databaseUrl }));
  io.out(renderTimelineText(timeline));
  if (options.html) {
    writeFileSync(options.html, renderTimelineHtml(timeline));
    io.err(`wrote ${options.html}`);
  }
  return ExitCode.ok;
}

/** A final answer too large for history is read back from the blob store for the page. */
export async function withStoredOutput(timeline: Timeline, store: BlobStore): Promise<Timeline> {
  const ref = timeline.result?.outputRef;
  if (!timeline.result || !ref) return timeline;
  try {
    const output = await resolveRefs(ref, store);
    return { ...timeline, result: { ...timeline.result, output: String(output) } };
  } catch {
    return timeline; // the reference stays; the page says nothing it cannot read
  } finally {
    await store.close();
  }
}

// keel trace ID|FILE [--html FILE]: the run's timeline from its history alone (no worker needed).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { KeelClient } from '../client';
import { AesGcmCodec, decryptHistory } from '../codec';
import { loadConfig } from '../config';
import { parseHistory } from '../replay';
import { renderTimelineHtml } from '../trace/render-html';
import { renderTimelineText } from '../trace/render-text';
import { buildTimeline } from '../trace/timeline';
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
  const timeline = buildTimeline(history);
  io.out(renderTimelineText(timeline));
  if (options.html) {
    writeFileSync(options.html, renderTimelineHtml(timeline));
    io.err(`wrote ${options.html}`);
  }
  return ExitCode.ok;
}

// `keel serve`: the webhook endpoint, and the run and decision endpoints for bearer tokens, until Ctrl-C.
import { KeelClient } from '../client';
import { loadConfig } from '../config';
import { createIngestServer } from '../ingest/server';
import { configuredAuthenticator } from '../security/api-tokens';
import { ExitCode } from './cli-error';
import { listenAddress } from './ports';
import type { CliIo } from './io';

export async function serveCommand(io: CliIo): Promise<number> {
  const config = loadConfig();
  const client = await KeelClient.connect({ door: 'keel serve' });
  const authenticate = configuredAuthenticator(config.serve);
  const app = createIngestServer({
    client,
    maxBodyBytes: config.serve.maxBodyBytes,
    dedupeWindowMs: config.serve.dedupeWindowMs,
    ...(config.serve.secret ? { secret: config.serve.secret } : {}),
    ...(authenticate ? { authenticate } : {}),
    keepAliveMs: config.serve.keepAliveMs,
  });
  await app.listen(listenAddress(config.serve.address));
  io.err(
    `keel serve · POST http://${config.serve.address}/runs → task queue "${client.taskQueue}" on ${client.address} · ` +
      `${config.serve.secret ? 'signed bodies only (X-Keel-Signature)' : 'unsigned (set KEEL_WEBHOOK_SECRET to require a signature)'} · ` +
      `max ${config.serve.maxBodyBytes} bytes · duplicates within ${Math.round(config.serve.dedupeWindowMs / 1000)} s attach · ` +
      (authenticate
        ? `GET /runs/:id, GET /runs/:id/events, GET /runs?status=awaiting_approval, POST /runs/:id/decisions for ${[config.serve.apiTokens ? `${config.serve.apiTokens.length} token(s)` : '', config.serve.oidc ? `OIDC tokens from ${config.serve.oidc.issuer}` : ''].filter(Boolean).join(' and ')}`
        : 'run and decision endpoints off (set KEEL_API_TOKENS or KEEL_OIDC_*)'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.close();
  await client.close();
  return ExitCode.ok;
}

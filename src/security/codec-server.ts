// `keel codec-server`: the Temporal Web UI (and `temporal` CLI) decode encrypted payloads through it,
// so operators still read inputs, results and escalation details. POST /encode and /decode take and
// give `{ "payloads": [{ "metadata": {k: base64}, "data": base64 }] }`, the remote codec protocol.
// With KEEL_API_TOKENS they take a bearer token; a payload it cannot decode says nothing about keys.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Authenticator } from './api-tokens';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins allowed to call it from a browser (the Web UI), e.g. http://localhost:8233. */
  allowedOrigins: string[];
  /** When given (KEEL_API_TOKENS, KEEL_OIDC_*), /encode and /decode take only a bearer token it knows, of any role. */
  authenticate?: Authenticator;
  /** Larger bodies get 413; default 4 MiB (Temporal's payloads are at most 2 MB each). */
  maxBodyBytes?: number;
}

export function createCodecServer(options: CodecServerOptions): FastifyInstance {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1_048_576;
  const app = Fastify({ logger: false, bodyLimit: maxBodyBytes });
  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) return reply.code(413).send({ error: `the body is larger than ${maxBodyBytes} bytes` });
    return reply.code(error.statusCode && error.statusCode < 500 ? error.statusCode : 400).send({ error: 'send {"payloads": [...]} as JSON' });
  });

  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin && options.allowedOrigins.includes(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-allow-credentials', 'true');
      reply.header('access-control-allow-methods', 'POST, OPTIONS');
      reply.header('access-control-allow-headers', 'content-type, x-namespace, authorization');
      reply.header('vary', 'origin');
    }
  });
  app.options('/*', async (_request, reply) => reply.code(204).send());
  app.get('/healthz', async () => ({ ok: true }));

  const route = (action: 'encode' | 'decode') =>
    app.post(`/${action}`, async (request, reply) => {
      if (options.authenticate) {
        const caller = await options.authenticate(request.headers.authorization);
        if (!caller.ok) return reply.code(caller.status).send({ error: caller.error });
      }
      const body = request.body as { payloads?: JsonPayload[] } | undefined;
      if (!body || !Array.isArray(body.payloads)) return reply.code(400).send({ error: 'send {"payloads": [...]} as JSON' });
      try {
        const payloads = await options.codec[action](body.payloads.map(fromJson));
        return { payloads: payloads.map(toJson) };
      } catch {
        // Which key ids exist, or which one a payload names, is not for the caller to learn.
        return reply.code(400).send({ error: `these payloads cannot be ${action}d with this server's keys` });
      }
    });
  route('encode');
  route('decode');
  return app;
}

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

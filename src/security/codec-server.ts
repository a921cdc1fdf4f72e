// `keel codec-server`: the Temporal Web UI (and `temporal` CLI) decode encrypted payloads through it,
// so operators still read inputs, results and escalation details. POST /encode and /decode take and
// give `{ "payloads": [{ "metadata": {k: base64}, "data": base64 }] }`, the remote codec protocol.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Payload, PayloadCodec } from '@temporalio/common';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins allowed to call it from a browser (the Web UI), e.g. http://localhost:8233. */
  allowedOrigins: string[];
}

export function createCodecServer(options: CodecServerOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1_048_576 });

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
      const body = request.body as { payloads?: JsonPayload[] } | undefined;
      if (!body || !Array.isArray(body.payloads)) return reply.code(400).send({ error: 'send {"payloads": [...]} as JSON' });
      try {
        const payloads = await options.codec[action](body.payloads.map(fromJson));
        return { payloads: payloads.map(toJson) };
      } catch (error) {
        return reply.code(400).send({ error: (error as Error).message });
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

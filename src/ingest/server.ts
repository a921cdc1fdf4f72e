// `keel serve`: requests arrive as webhooks. Each body is checked (size, signature, schema), the
// provider's event id becomes the run's idempotency key (duplicates within the window attach to
// the first run), and the run starts with its priority. With KEEL_API_TOKENS, bearer tokens read runs
// (GET /runs/:id, GET /runs?status=awaiting_approval) and decide them (POST /runs/:id/decisions,
// recorded under the token's name).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { InvalidDecisionError, InvalidRequestError, NoWorkerError, RunEndedError, RunNotFoundError, type KeelClient } from '../client';
import { roleRefusal, type ApiRole, type Authenticator } from '../security/api-tokens';
import { signerFor } from '../security/decision-keys';
import { DecisionSchema, describeIssues } from '../shared';

export interface IngestOptions {
  client: KeelClient;
  /** HMAC-SHA256 of the raw body with this secret must arrive in `X-Keel-Signature: sha256=<hex>`. */
  secret?: string;
  /** Larger bodies get 413. */
  maxBodyBytes: number;
  /** A repeated event id attaches to the run it started, for this long. */
  dedupeWindowMs: number;
  /** Who a bearer token is (KEEL_API_TOKENS, KEEL_OIDC_*), for GET /runs/:id, GET /runs and POST /runs/:id/decisions; without it, those answer 404. */
  authenticate?: Authenticator;
  /** GET /runs/:id/events sends a comment this often while the run is quiet (default 15 s). */
  keepAliveMs?: number;
}

/** Temporal priority keys: 1 runs first, 5 last; unset is 3. */
export const priorityLevels = { highest: 1, default: 3, lowest: 5 } as const;

/** What a webhook answers: 202 started, 200 duplicate. */
export interface IngestReply {
  workflowId: string;
  runId: string;
  duplicate: boolean;
  priority: number;
}

export function createIngestServer(options: IngestOptions): FastifyInstance {
  const app = Fastify({ bodyLimit: options.maxBodyBytes, logger: false });
  // The signature is over the exact bytes sent, so keep them and parse here; JSON only (else 415).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
      return reply.code(413).send({ error: `the body is larger than ${options.maxBodyBytes} bytes (KEEL_WEBHOOK_MAX_BYTES)` });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ error: 'send the request as application/json' });
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: error.message });
    return reply.code(502).send({ error: `could not start the run: ${error.message}` });
  });

  app.get('/healthz', async () => ({ ok: true }));

  // The run and decision endpoints: a bearer token with the role each needs (KEEL_API_TOKENS).
  const authenticate = options.authenticate;
  const allowed = async (request: { headers: Record<string, string | string[] | undefined> }, reply: { code: (status: number) => { send: (body: unknown) => unknown } }, role: ApiRole | 'any') => {
    if (!authenticate) {
      reply.code(404).send({ error: 'the run and decision endpoints are off: set KEEL_API_TOKENS (or KEEL_OIDC_*) to turn them on' });
      return undefined;
    }
    const caller = await authenticate(request.headers.authorization);
    if (!caller.ok) {
      reply.code(caller.status).send({ error: caller.error });
      return undefined;
    }
    if (role !== 'any' && !caller.roles.includes(role)) {
      reply.code(403).send({ error: roleRefusal(role) });
      return undefined;
    }
    return caller;
  };
  const runError = (error: unknown, reply: { code: (status: number) => { send: (body: unknown) => unknown } }) => {
    if (error instanceof RunNotFoundError) return reply.code(404).send({ error: error.message });
    if (error instanceof InvalidDecisionError || error instanceof RunEndedError) return reply.code(409).send({ error: error.message });
    if (error instanceof NoWorkerError) return reply.code(503).send({ error: error.message });
    throw error;
  };

  app.get('/runs/:id', async (request, reply) => {
    if (!(await allowed(request, reply, 'any'))) return reply;
    try {
      return await options.client.getStatus((request.params as { id: string }).id);
    } catch (error) {
      return runError(error, reply);
    }
  });

  // The run's live stream as Server-Sent Events: `id:` is the offset, so a reconnecting EventSource
  // (Last-Event-ID) or `?after=` resumes with no gap and no repeat. A browser's EventSource cannot
  // send a header, so this endpoint also takes the token as `?access_token=`.
  app.get('/runs/:id/events', async (request, reply) => {
    const query = request.query as { after?: string; access_token?: string };
    const headers = query.access_token && !request.headers.authorization ? { ...request.headers, authorization: `Bearer ${query.access_token}` } : request.headers;
    if (!(await allowed({ headers }, reply, 'any'))) return reply;
    const workflowId = (request.params as { id: string }).id;
    const resumeFrom = header(request.headers['last-event-id']) ?? query.after;
    if (resumeFrom !== undefined && !/^-?\d+$/.test(resumeFrom)) return reply.code(400).send({ error: 'Last-Event-ID (or ?after=) is the offset of the last event you have, a whole number' });
    try {
      await options.client.getRunDescription(workflowId);
    } catch (error) {
      return runError(error, reply);
    }
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    raw.write(': keel run stream\n\n');
    const stop = new AbortController();
    raw.on('close', () => stop.abort());
    const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000);
    try {
      for await (const event of options.client.events(workflowId, { ...(resumeFrom !== undefined ? { after: Number(resumeFrom) } : {}), signal: stop.signal })) {
        if (stop.signal.aborted) break;
        raw.write(`id: ${event.offset}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
    } catch (error) {
      if (!stop.signal.aborted) raw.write(`event: error\ndata: ${JSON.stringify({ error: (error as Error).message })}\n\n`);
    } finally {
      clearInterval(keepAlive);
      raw.end();
    }
    return reply;
  });

  // A page that watches one run's stream in the browser (the token goes in the URL, as for the stream).
  app.get('/runs/:id/watch', async (request, reply) => {
    const workflowId = (request.params as { id: string }).id;
    return reply.type('text/html; charset=utf-8').send(watchPage(workflowId));
  });

  app.get('/runs', async (request, reply) => {
    if (!(await allowed(request, reply, 'any'))) return reply;
    const { status } = request.query as { status?: string };
    if (status !== 'awaiting_approval') return reply.code(400).send({ error: 'list runs with ?status=awaiting_approval (the runs waiting for a human)' });
    return (await options.client.listPending()).map((run) => ({ ...run, startTime: run.startTime.toISOString() }));
  });

  app.post('/runs/:id/decisions', async (request, reply) => {
    const caller = await allowed(request, reply, 'approver');
    if (!caller) return reply;
    let body: unknown;
    try {
      body = JSON.parse((request.body instanceof Buffer ? request.body : Buffer.alloc(0)).toString('utf8'));
    } catch (error) {
      return reply.code(400).send({ error: 'the body is not valid JSON', problems: [(error as Error).message] });
    }
    const parsed = DecisionSchema.safeParse(body);
    if (!parsed.success) return reply.code(400).send({ error: 'invalid decision', problems: describeIssues(parsed.error) });
    try {
      // The decision is recorded under the token's name, whatever the body says.
      // With KEEL_SIGNING_KEY the door signs it, so the run knows who sent it (approver policies).
      const { signature: _given, ...decision } = parsed.data;
      const receipt = await options.client.decide((request.params as { id: string }).id, { ...decision, by: caller.name }, { as: signerFor(caller, 'keel serve') });
      return reply.code(200).send({ ...receipt, by: caller.name });
    } catch (error) {
      return runError(error, reply);
    }
  });

  app.post('/runs', async (request, reply) => {
    const raw = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
    // A bearer token with the role starter, or (from a webhook provider) the body's signature. With
    // tokens set and no webhook secret, a token is the only way in.
    let starter: Awaited<ReturnType<typeof allowed>>;
    if (request.headers.authorization !== undefined && authenticate) {
      starter = await allowed(request, reply, 'starter');
      if (!starter) return reply;
    } else if (options.secret) {
      const problem = signatureProblem(raw, request.headers['x-keel-signature'], options.secret);
      if (problem) return reply.code(401).send({ error: problem });
    } else if (authenticate) {
      return reply.code(401).send({ error: 'send Authorization: Bearer <token> (a token with the role starter)' });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      return reply.code(400).send({ error: 'the body is not valid JSON', problems: [(error as Error).message] });
    }
    const priority = parsePriority(request.headers['x-keel-priority'] ?? (request.query as Record<string, string | undefined>).priority);
    if (typeof priority === 'string') return reply.code(400).send({ error: 'invalid priority', problems: [priority] });
    const eventId = header(request.headers['x-event-id']) ?? header(request.headers['idempotency-key']);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return reply.code(400).send({ error: 'invalid request', problems: ['the body must be a JSON object: an AgentRequest such as {"goal": "..."}'] });
    }
    // startRun checks the request once, for every door: its problems come back as a 400 below.
    const ownKey = (body as { idempotencyKey?: unknown }).idempotencyKey;
    const idempotencyKey = eventId ? eventKey(eventId) : typeof ownKey === 'string' ? ownKey : undefined;
    // Who started the run is this door's to say: a body's own startedBy is dropped.
    const { startedBy: _claimed, ...fields } = body as Record<string, unknown>;
    try {
      const started = await options.client.startRun(
        { ...fields, ...(idempotencyKey ? { idempotencyKey } : {}) } as never,
        { priority, ...(idempotencyKey ? { dedupeWindowMs: options.dedupeWindowMs } : {}), ...(starter ? { as: signerFor(starter, 'keel serve') } : {}) },
      );
      const answer: IngestReply = { workflowId: started.workflowId, runId: started.runId, duplicate: started.attached, priority };
      return reply.code(started.attached ? 200 : 202).send(answer);
    } catch (error) {
      if (error instanceof InvalidRequestError) return reply.code(400).send({ error: 'invalid request', problems: error.problems });
      throw error;
    }
  });
  return app;
}

/** An event id of any shape becomes a key Temporal accepts as a workflow id, the same every time. */
export function eventKey(eventId: string): string {
  return `evt-${createHash('sha256').update(eventId).digest('hex').slice(0, 40)}`;
}

export function sign(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function signatureProblem(raw: Buffer, given: string | string[] | undefined, secret: string): string | undefined {
  const value = header(given);
  if (!value) return 'missing X-Keel-Signature: send sha256=<hex HMAC-SHA256 of the body with the shared secret>';
  const expected = Buffer.from(sign(raw, secret));
  const actual = Buffer.from(value);
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? undefined : 'X-Keel-Signature does not match the body: check the shared secret (KEEL_WEBHOOK_SECRET)';
}

/** 1..5 (default 3), or why not. */
function parsePriority(value: string | string[] | undefined): number | string {
  const text = header(value);
  if (text === undefined) return priorityLevels.default;
  const priority = Number(text);
  return Number.isInteger(priority) && priority >= priorityLevels.highest && priority <= priorityLevels.lowest
    ? priority
    : `priority must be an integer from ${priorityLevels.highest} (first) to ${priorityLevels.lowest} (last), got "${text}"`;
}

function header(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

/** The watch page: the run's events as lines, and each model call's text as it streams. */
function watchPage(workflowId: string): string {
  const id = JSON.stringify(workflowId).replace(/</g, '\\u003c');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>keel · watching a run</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:60rem}pre{white-space:pre-wrap;background:#f6f6f6;padding:.75rem}#events{color:#555}</style></head>
<body><h1>Run <code id="run"></code></h1><p id="status">connecting…</p><h2>Model output</h2><pre id="text"></pre><h2>Events</h2><ol id="events"></ol>
<script>
const workflowId = ${id};
document.getElementById('run').textContent = workflowId;
const token = new URLSearchParams(location.search).get('access_token') || '';
const source = new EventSource('/runs/' + encodeURIComponent(workflowId) + '/events' + (token ? '?access_token=' + encodeURIComponent(token) : ''));
const text = document.getElementById('text');
const attempts = {};
const line = (words) => { const item = document.createElement('li'); item.textContent = words; document.getElementById('events').appendChild(item); };
source.onopen = () => { document.getElementById('status').textContent = 'streaming'; };
source.onmessage = () => {};
for (const type of ['run.started','plan.proposed','plan.accepted','plan.rejected','task.started','task.retrying','task.completed','task.failed','task.skipped','step','escalation.waiting','escalation.decided']) {
  source.addEventListener(type, (message) => { const event = JSON.parse(message.data); line(event.type + (event.taskId ? ' ' + event.taskId : '') + (event.reason ? ': ' + event.reason : '')); if (event.type === 'task.retrying') text.textContent = ''; });
}
source.addEventListener('model.delta', (message) => { const event = JSON.parse(message.data); text.textContent += event.text; });
source.addEventListener('run.ended', (message) => { const event = JSON.parse(message.data); line('run.ended ' + event.status); document.getElementById('status').textContent = 'ended: ' + event.status; source.close(); });
</script></body></html>`;
}

// A loopback server that speaks OpenAI's chat-completions wire format and injects faults.
import { createServer, type Server } from 'node:http';

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** A completion's message content (status 200), or an error body (other statuses). */
  content?: string;
  error?: { message: string; type?: string; code?: string };
  usage?: { prompt_tokens: number; completion_tokens: number };
  model?: string;
  /** The model calls tools (finish_reason tool_calls); `arguments` is sent as written, valid JSON or not. */
  toolCalls?: Array<{ id?: string; name: string; arguments: string }>;
  /** The model declines: `message.refusal` set, content null. */
  refusal?: string;
  /** Waits this long before answering (client timeouts). */
  delayMs?: number;
  /** Drops the connection instead of answering. */
  reset?: boolean;
  /** Sends this text as the body, as a broken proxy would. */
  rawBody?: string;
  /** A streamed reply (`stream: true`): this long between chunks (default 20 ms). */
  chunkDelayMs?: number;
  /** A streamed reply: drop the connection after this many chunks, mid-answer. */
  cutAfterChunks?: number;
  /** Answers `stream: true` with one JSON body, as some OpenAI-compatible servers do. */
  ignoresStream?: boolean;
}

export interface FakeOpenAI {
  baseURL: string;
  requests: Array<{ path: string; authorization: string | undefined; body: Record<string, unknown> }>;
  /** Replies in order; when they run out, the last one repeats. */
  replies: FakeReply[];
  /** The key check at worker start (GET /models): refuse it with 401 when true. */
  refuseKey?: boolean;
  /** When set, decides each reply from the request instead of `replies`. */
  respond?: (body: Record<string, unknown>) => FakeReply;
  close(): Promise<void>;
}

export async function startFakeOpenAI(replies: FakeReply[] = []): Promise<FakeOpenAI> {
  const fake: Omit<FakeOpenAI, 'baseURL' | 'close'> = { requests: [], replies };
  let respond: FakeOpenAI['respond'];
  let served = 0;
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => (raw += chunk));
    request.on('end', () => {
      if (request.method === 'GET' && request.url?.endsWith('/models')) {
        // The worker's key check: not a completion, so not in `requests`.
        const refused = fake.refuseKey === true;
        response.writeHead(refused ? 401 : 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(refused ? { error: { message: `Incorrect API key provided: ${String(request.headers.authorization).slice(7)}`, type: 'invalid_request_error', code: 'invalid_api_key' } } : { object: 'list', data: [] }));
        return;
      }
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      fake.requests.push({ path: request.url ?? '', authorization: request.headers.authorization, body });
      const reply = respond ? respond(body) : (fake.replies[Math.min(served++, fake.replies.length - 1)] ?? { content: 'ok' });
      if (reply.reset) {
        request.socket.destroy();
        return;
      }
      const status = reply.status ?? 200;
      const payload =
        status === 200
          ? {
              id: `chatcmpl-${served}`,
              object: 'chat.completion',
              created: 1_795_000_000,
              model: reply.model ?? String(body.model),
              choices: [
                {
                  index: 0,
                  finish_reason: reply.toolCalls ? 'tool_calls' : 'stop',
                  message: reply.refusal
                    ? { role: 'assistant', content: null, refusal: reply.refusal }
                    : reply.toolCalls
                      ? { role: 'assistant', content: null, tool_calls: reply.toolCalls.map((call, index) => ({ id: call.id ?? `call_fake_${served}_${index}`, type: 'function', function: { name: call.name, arguments: call.arguments } })) }
                      : { role: 'assistant', content: reply.content ?? '' },
                },
              ],
              usage: { ...(reply.usage ?? { prompt_tokens: 10, completion_tokens: 5 }), total_tokens: 0 },
            }
          : { error: { message: reply.error?.message ?? 'error', type: reply.error?.type ?? 'invalid_request_error', code: reply.error?.code ?? null } };
      if (body.stream === true && status === 200 && !reply.rawBody && !reply.ignoresStream) {
        streamReply(response, request.socket, reply, String(body.model), served, (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true);
        return;
      }
      const send = () => {
        if (response.destroyed) return;
        response.writeHead(status, { 'content-type': 'application/json', ...reply.headers });
        response.end(reply.rawBody ?? JSON.stringify(payload));
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    ...fake,
    get replies() {
      return fake.replies;
    },
    set replies(next) {
      fake.replies = next;
      served = 0;
    },
    get refuseKey() {
      return fake.refuseKey;
    },
    set refuseKey(next) {
      fake.refuseKey = next;
    },
    get respond() {
      return respond;
    },
    set respond(next) {
      respond = next;
    },
    baseURL: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  } as FakeOpenAI;
}

/** A completion as OpenAI streams it: Server-Sent Events of chunks, the usage last, then [DONE]. */
function streamReply(response: import('node:http').ServerResponse, socket: import('node:net').Socket, reply: FakeReply, model: string, served: number, includeUsage: boolean): void {
  const id = `chatcmpl-${served}`;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ id, object: 'chat.completion.chunk', created: 1_795_000_000, model: reply.model ?? model, choices: [{ index: 0, delta, finish_reason: finish }] });
  const chunks: unknown[] = [chunk({ role: 'assistant', content: '' })];
  if (reply.refusal) chunks.push(chunk({ refusal: reply.refusal }));
  for (const word of (reply.content ?? '').match(/\s*\S+\s*/g) ?? []) chunks.push(chunk({ content: word }));
  for (const [index, call] of (reply.toolCalls ?? []).entries()) {
    const half = Math.ceil(call.arguments.length / 2);
    chunks.push(chunk({ tool_calls: [{ index, id: call.id ?? `call_fake_${served}_${index}`, type: 'function', function: { name: call.name, arguments: '' } }] }));
    chunks.push(chunk({ tool_calls: [{ index, function: { arguments: call.arguments.slice(0, half) } }] }));
    chunks.push(chunk({ tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }] }));
  }
  chunks.push(chunk({}, reply.toolCalls ? 'tool_calls' : 'stop'));
  if (includeUsage) chunks.push({ id, object: 'chat.completion.chunk', created: 1_795_000_000, model: reply.model ?? model, choices: [], usage: { ...(reply.usage ?? { prompt_tokens: 10, completion_tokens: 5 }), total_tokens: 0 } });
  response.writeHead(200, { 'content-type': 'text/event-stream', ...reply.headers });
  let sent = 0;
  const next = () => {
    if (response.destroyed) return;
    if (reply.cutAfterChunks !== undefined && sent >= reply.cutAfterChunks) {
      socket.destroy();
      return;
    }
    if (sent >= chunks.length) {
      response.end('data: [DONE]\n\n');
      return;
    }
    response.write(`data: ${JSON.stringify(chunks[sent++])}\n\n`);
    setTimeout(next, reply.chunkDelayMs ?? 20);
  };
  setTimeout(next, reply.delayMs ?? 0);
}

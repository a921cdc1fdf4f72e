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

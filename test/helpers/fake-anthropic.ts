// A loopback server that speaks Anthropic's Messages API (tool_use blocks included).
import { createServer, type Server } from 'node:http';

export interface FakeAnthropicReply {
  /** Content blocks: { type: 'text', text } or { type: 'tool_use', id, name, input }. */
  content: unknown[];
  stopReason?: 'end_turn' | 'tool_use' | 'refusal';
}

export interface FakeAnthropic {
  baseURL: string;
  requests: Array<Record<string, unknown>>;
  respond: (body: Record<string, unknown>) => FakeAnthropicReply;
  close(): Promise<void>;
}

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const fake = { requests: [] as Array<Record<string, unknown>>, respond: (_body: Record<string, unknown>): FakeAnthropicReply => ({ content: [{ type: 'text', text: 'ok' }] }) };
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => (raw += chunk));
    request.on('end', () => {
      if (request.method === 'GET') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ data: [], has_more: false, first_id: null, last_id: null }));
        return;
      }
      const body = JSON.parse(raw) as Record<string, unknown>;
      fake.requests.push(body);
      const reply = fake.respond(body);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: `msg_${fake.requests.length}`,
          type: 'message',
          role: 'assistant',
          model: String(body.model),
          content: reply.content,
          stop_reason: reply.stopReason ?? (reply.content.some((block) => (block as { type: string }).type === 'tool_use') ? 'tool_use' : 'end_turn'),
          stop_sequence: null,
          usage: { input_tokens: 200, output_tokens: 30 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return Object.assign(fake, {
    baseURL: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

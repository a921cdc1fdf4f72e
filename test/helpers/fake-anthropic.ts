// A loopback server that speaks Anthropic's Messages API (tool_use blocks included).
import { createServer, type Server } from 'node:http';

export interface FakeAnthropicReply {
  /** Content blocks: { type: 'text', text } or { type: 'tool_use', id, name, input }. */
  content: unknown[];
  stopReason?: 'end_turn' | 'tool_use' | 'refusal';
  /** A streamed reply (`stream: true`): this long between events (default 20 ms). */
  chunkDelayMs?: number;
  /** A streamed reply: after this many events, an `error` event (overloaded), as the API sends mid-stream. */
  errorAfterEvents?: number;
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
      if (body.stream === true) {
        streamReply(response, reply, String(body.model), fake.requests.length);
        return;
      }
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

/** A message as the Messages API streams it: message_start, each block's start, deltas and stop, message_delta, message_stop. */
function streamReply(response: import('node:http').ServerResponse, reply: FakeAnthropicReply, model: string, number: number): void {
  const events: Array<{ type: string } & Record<string, unknown>> = [
    { type: 'message_start', message: { id: `msg_${number}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 200, output_tokens: 1 } } },
  ];
  for (const [index, block] of (reply.content as Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown }>).entries()) {
    if (block.type === 'text') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const word of block.text!.match(/\s*\S+\s*/g) ?? []) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: word } });
    } else {
      events.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      const json = JSON.stringify(block.input);
      const half = Math.ceil(json.length / 2);
      events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: json.slice(0, half) } });
      events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: json.slice(half) } });
    }
    events.push({ type: 'content_block_stop', index });
  }
  const stop = reply.stopReason ?? (reply.content.some((block) => (block as { type: string }).type === 'tool_use') ? 'tool_use' : 'end_turn');
  events.push({ type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 30 } });
  events.push({ type: 'message_stop' });
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  let sent = 0;
  const next = () => {
    if (response.destroyed) return;
    if (reply.errorAfterEvents !== undefined && sent >= reply.errorAfterEvents) {
      response.end(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`);
      return;
    }
    if (sent >= events.length) {
      response.end();
      return;
    }
    const event = events[sent++]!;
    response.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    setTimeout(next, reply.chunkDelayMs ?? 20);
  };
  next();
}

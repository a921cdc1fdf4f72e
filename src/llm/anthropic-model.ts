// Anthropic through the official client; structured output through a forced tool call.
import Anthropic from '@anthropic-ai/sdk';
import type { ChatTurn, KeyCheck, ModelClient, ModelRequest, ModelResponse, ModelToolCall } from './model-client';
import { KeelError } from '../shared';
import { classifyProviderError, failedKeyCheck } from './provider-error';

const outputTool = 'output';

export class AnthropicModel implements ModelClient {
  readonly name = 'anthropic';
  private readonly client: Anthropic;

  constructor(options: { apiKey: string; baseURL?: string; timeoutMs?: number }) {
    // Temporal retries the activity; the SDK's own retries would multiply them.
    this.client = new Anthropic({ apiKey: options.apiKey, maxRetries: 0, timeout: options.timeoutMs ?? 60_000, ...(options.baseURL ? { baseURL: options.baseURL } : {}) });
  }

  async checkKey(): Promise<KeyCheck> {
    try {
      await this.client.models.list({}, { timeout: 10_000 });
      return { ok: true };
    } catch (error) {
      return failedKeyCheck(error instanceof Anthropic.APIError ? error.status : undefined, error);
    }
  }

  /** The same call streamed (`stream: true`): each piece goes to onDelta as it comes. */
  private async streamed(params: Anthropic.MessageCreateParamsNonStreaming, options: { signal?: AbortSignal }, onDelta: NonNullable<ModelRequest['onDelta']>): Promise<Answer> {
    const stream = await this.client.messages.create({ ...params, stream: true }, options);
    return assemble(stream, onDelta);
  }

  async generate(request: ModelRequest): Promise<ModelResponse> {
    try {
      const params: Anthropic.MessageCreateParamsNonStreaming = {
          model: request.model,
          max_tokens: request.maxOutputTokens ?? 4_096,
          system: request.system,
          messages: anthropicMessages(request.prompt, request.turns ?? []),
          ...(request.tools?.length
            ? { tools: request.tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.inputSchema as Anthropic.Tool.InputSchema })) }
            : request.jsonSchema
            ? {
                tools: [{ name: outputTool, description: 'Return the answer in this shape.', input_schema: request.jsonSchema as Anthropic.Tool.InputSchema }],
                tool_choice: { type: 'tool' as const, name: outputTool },
              }
            : {}),
      };
      const options = request.signal ? { signal: request.signal } : {};
      const message = request.onDelta ? await this.streamed(params, options, request.onDelta) : await this.client.messages.create(params, options);
      if ((message.stop_reason as string | null) === 'refusal') throw new KeelError('semantic', `${this.name}: the model refused to answer`);
      const usage = { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens };
      const written = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      if (request.tools?.length) {
        const toolCalls: ModelToolCall[] = message.content.flatMap((block) => (block.type === 'tool_use' ? [{ id: block.id, tool: block.name, input: toolInput(block.name, block.input) }] : []));
        return { text: written, ...(toolCalls.length > 0 ? { toolCalls } : {}), model: message.model, usage };
      }
      const toolUse = message.content.find((block) => block.type === 'tool_use');
      const text = toolUse && toolUse.type === 'tool_use' ? JSON.stringify(toolUse.input) : written;
      return { text, model: message.model, usage };
    } catch (error) {
      if (error instanceof Anthropic.APIConnectionTimeoutError) throw classifyProviderError({ provider: this.name, message: error.message, connection: 'timeout' });
      if (error instanceof Anthropic.APIConnectionError) throw classifyProviderError({ provider: this.name, message: error.message, connection: 'failed' });
      if (error instanceof Anthropic.APIError) {
        throw classifyProviderError({ provider: this.name, ...(error.status !== undefined ? { status: error.status } : {}), message: error.message, ...(error.headers ? { headers: error.headers } : {}) });
      }
      if (error instanceof KeelError) throw error;
      throw new KeelError('transient', `${this.name}: unreadable response: ${(error as Error).message}`);
    }
  }
}

/** The parts of a message the answer is read from. */
type Answer = Pick<Anthropic.Message, 'content' | 'stop_reason' | 'model' | 'usage'>;

/** A streamed message's events put back together, each text or tool-input piece passed on as it comes. */
async function assemble(stream: AsyncIterable<Anthropic.RawMessageStreamEvent>, onDelta: NonNullable<ModelRequest['onDelta']>): Promise<Answer> {
  let model = '';
  let stopReason: Anthropic.Message['stop_reason'] = null;
  const usage = { input_tokens: 0, output_tokens: 0 };
  const blocks: Array<{ type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; json: string }> = [];
  const toolIndex = new Map<number, number>();
  for await (const event of stream) {
    switch (event.type) {
      case 'message_start':
        model = event.message.model;
        usage.input_tokens = event.message.usage.input_tokens;
        usage.output_tokens = event.message.usage.output_tokens;
        break;
      case 'content_block_start':
        if (event.content_block.type === 'tool_use') {
          toolIndex.set(event.index, toolIndex.size);
          blocks[event.index] = { type: 'tool_use', id: event.content_block.id, name: event.content_block.name, json: '' };
          if (event.content_block.name !== outputTool) onDelta({ toolCall: { index: toolIndex.get(event.index)!, name: event.content_block.name, arguments: '' } });
        } else if (event.content_block.type === 'text') blocks[event.index] = { type: 'text', text: '' };
        break;
      case 'content_block_delta': {
        const block = blocks[event.index];
        if (event.delta.type === 'text_delta' && block?.type === 'text') {
          block.text += event.delta.text;
          onDelta({ text: event.delta.text });
        } else if (event.delta.type === 'input_json_delta' && block?.type === 'tool_use') {
          block.json += event.delta.partial_json;
          // The forced output tool's input is the answer itself.
          if (block.name === outputTool) onDelta({ text: event.delta.partial_json });
          else onDelta({ toolCall: { index: toolIndex.get(event.index)!, arguments: event.delta.partial_json } });
        }
        break;
      }
      case 'message_delta':
        stopReason = event.delta.stop_reason ?? stopReason;
        if (event.usage.output_tokens !== undefined) usage.output_tokens = event.usage.output_tokens;
        break;
      default:
        break;
    }
  }
  if (stopReason === null) throw new KeelError('transient', 'anthropic: the stream ended before the answer did');
  const content = blocks.filter(Boolean).map((block) => {
    if (block.type === 'text') return { type: 'text' as const, text: block.text, citations: null };
    let input: unknown;
    try {
      input = block.json.trim() === '' ? {} : JSON.parse(block.json);
    } catch (error) {
      throw new KeelError('malformed', `anthropic: the input of the call to ${block.name} is not valid JSON (${(error as Error).message})`);
    }
    return { type: 'tool_use' as const, id: block.id, name: block.name, input };
  });
  return { content: content as Anthropic.Message['content'], stop_reason: stopReason, model, usage: usage as Anthropic.Message['usage'] };
}

function toolInput(tool: string, input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new KeelError('malformed', `anthropic: the input of the call to ${tool} is not a JSON object`);
  return input as Record<string, unknown>;
}

/**
 * The prompt and the turns after it as Messages API messages, which alternate user and assistant:
 * tool results and notes after a tool call go into one user message, results first.
 */
function anthropicMessages(prompt: string, turns: ChatTurn[]): Anthropic.MessageParam[] {
  const messages: Array<{ role: 'user' | 'assistant'; content: Anthropic.ContentBlockParam[] }> = [{ role: 'user', content: [{ type: 'text', text: prompt }] }];
  const userBlock = (block: Anthropic.ContentBlockParam) => {
    const last = messages.at(-1)!;
    if (last.role === 'user') last.content.push(block);
    else messages.push({ role: 'user', content: [block] });
  };
  for (const turn of turns) {
    if (turn.role === 'assistant') messages.push({ role: 'assistant', content: turn.toolCalls.map((call) => ({ type: 'tool_use' as const, id: call.id, name: call.tool, input: call.input })) });
    else if (turn.role === 'tool') userBlock({ type: 'tool_result', tool_use_id: turn.id, content: turn.content });
    else userBlock({ type: 'text', text: turn.content });
  }
  return messages;
}

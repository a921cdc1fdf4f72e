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

  async generate(request: ModelRequest): Promise<ModelResponse> {
    try {
      const message = await this.client.messages.create(
        {
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
        },
        request.signal ? { signal: request.signal } : {},
      );
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

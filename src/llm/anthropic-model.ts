// Anthropic through the official client; structured output through a forced tool call.
import Anthropic from '@anthropic-ai/sdk';
import type { KeyCheck, ModelClient, ModelRequest, ModelResponse } from './model-client';
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
          messages: [{ role: 'user', content: request.prompt }],
          ...(request.jsonSchema
            ? {
                tools: [{ name: outputTool, description: 'Return the answer in this shape.', input_schema: request.jsonSchema as Anthropic.Tool.InputSchema }],
                tool_choice: { type: 'tool' as const, name: outputTool },
              }
            : {}),
        },
        request.signal ? { signal: request.signal } : {},
      );
      if ((message.stop_reason as string | null) === 'refusal') throw new KeelError('semantic', `${this.name}: the model refused to answer`);
      const toolUse = message.content.find((block) => block.type === 'tool_use');
      const text = toolUse && toolUse.type === 'tool_use' ? JSON.stringify(toolUse.input) : message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      return { text, model: message.model, usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens } };
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

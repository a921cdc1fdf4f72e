// OpenAI and any OpenAI-compatible server (Ollama, vLLM, llama.cpp) through the official client.
import OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import type { ChatTurn, KeyCheck, ModelClient, ModelRequest, ModelResponse, ModelToolCall } from './model-client';
import { KeelError } from '../shared';
import { classifyProviderError, failedKeyCheck } from './provider-error';

export interface OpenAIModelOptions {
  apiKey: string;
  /** An OpenAI-compatible server, e.g. http://localhost:11434/v1 for Ollama. */
  baseURL?: string;
  /** How the provider is named in errors, spans and metrics. Default "openai". */
  name?: string;
  /** Per-request timeout; the activity's own timeout is the real bound. Default 60 s. */
  timeoutMs?: number;
}

export class OpenAIModel implements ModelClient {
  readonly name: string;
  private readonly client: OpenAI;
  private readonly timeoutMs: number;

  constructor(options: OpenAIModelOptions) {
    this.name = options.name ?? 'openai';
    // Temporal retries the activity; the SDK's own retries would multiply them.
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.client = new OpenAI({ apiKey: options.apiKey, maxRetries: 0, timeout: this.timeoutMs, ...(options.baseURL ? { baseURL: options.baseURL } : {}) });
  }

  async checkKey(): Promise<KeyCheck> {
    try {
      await this.client.models.list({ timeout: 10_000 });
      return { ok: true };
    } catch (error) {
      return failedKeyCheck(error instanceof OpenAI.APIError ? error.status : undefined, error);
    }
  }

  /**
   * The same call streamed (`stream: true`): each piece goes to onDelta as it comes, the whole
   * answer is returned. A compatible server that ignores `stream` and answers with one JSON body is
   * read whole, as a call that did not stream (no deltas), instead of as a stream that never began.
   */
  private async streamed(
    params: OpenAI.ChatCompletionCreateParamsNonStreaming,
    options: { signal?: AbortSignal },
    onDelta: NonNullable<ModelRequest['onDelta']>,
  ): Promise<ModelResponse> {
    const response = await this.client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, options).asResponse();
    if (!/^text\/event-stream/i.test(response.headers.get('content-type') ?? '')) return this.answer((await response.json()) as OpenAI.ChatCompletion);
    const controller = new AbortController();
    options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
    const stream = Stream.fromSSEResponse<OpenAI.ChatCompletionChunk>(response, controller, this.client);
    return assemble(this.name, stream, onDelta, (id, tool, args) => this.toolCall(id, tool, args));
  }

  /** A whole completion as Keel's answer: refusals and filtered answers are the model's judgement (semantic). */
  private answer(completion: OpenAI.ChatCompletion): ModelResponse {
    const choice = completion.choices?.[0];
    // A refusal is the model's judgement of the request: retrying it unchanged would only repeat it.
    if (choice?.message.refusal) throw new KeelError('semantic', `${this.name}: the model refused: ${choice.message.refusal}`);
    if (choice?.finish_reason === 'content_filter') throw new KeelError('semantic', `${this.name}: the answer was withheld by the content filter`);
    const toolCalls = (choice?.message.tool_calls ?? []).flatMap((call) => (call.type === 'function' ? [this.toolCall(call.id, call.function.name, call.function.arguments)] : []));
    return {
      text: choice?.message.content ?? '',
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
      model: completion.model,
      usage: { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens: completion.usage?.completion_tokens ?? 0 },
    };
  }

  /** A call as the model wrote it; arguments that are not a JSON object are the model's mistake (malformed), which a new ask can fix. */
  private toolCall(id: string, tool: string, args: string): ModelToolCall {
    let input: unknown;
    try {
      input = args.trim() === '' ? {} : JSON.parse(args);
    } catch (error) {
      throw new KeelError('malformed', `${this.name}: the arguments of the call to ${tool} are not valid JSON (${(error as Error).message}): ${args.slice(0, 200)}`);
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new KeelError('malformed', `${this.name}: the arguments of the call to ${tool} are not a JSON object: ${args.slice(0, 200)}`);
    return { id, tool, input: input as Record<string, unknown> };
  }

  async generate(request: ModelRequest): Promise<ModelResponse> {
    const started = Date.now();
    try {
      const params: OpenAI.ChatCompletionCreateParamsNonStreaming = {
          model: request.model,
          temperature: 0,
          messages: [{ role: 'system', content: request.system }, { role: 'user', content: request.prompt }, ...(request.turns ?? []).map(openAITurn)],
          ...(request.tools?.length
            ? {
                tools: request.tools.map((tool) => ({ type: 'function' as const, function: { name: tool.name, description: tool.description, parameters: tool.inputSchema } })),
                parallel_tool_calls: true,
              }
            : {}),
          ...(request.maxOutputTokens ? { max_tokens: request.maxOutputTokens } : {}),
          ...(request.jsonSchema ? { response_format: { type: 'json_schema' as const, json_schema: { name: 'output', schema: request.jsonSchema, strict: false } } } : {}),
      };
      const options = request.signal ? { signal: request.signal } : {};
      if (request.onDelta) return await this.streamed(params, options, request.onDelta);
      return this.answer(await this.client.chat.completions.create(params, options));
    } catch (error) {
      if (error instanceof OpenAI.APIConnectionTimeoutError) throw classifyProviderError({ provider: this.name, message: error.message, connection: 'timeout' });
      // The client reports its own timeout as a connection error; the clock tells them apart.
      const timedOut = Date.now() - started >= this.timeoutMs && !request.signal?.aborted;
      if (error instanceof OpenAI.APIConnectionError && timedOut) throw classifyProviderError({ provider: this.name, message: `no answer within ${this.timeoutMs} ms`, connection: 'timeout' });
      if (error instanceof OpenAI.APIConnectionError) throw classifyProviderError({ provider: this.name, message: error.message, connection: 'failed' });
      if (error instanceof OpenAI.APIError) {
        throw classifyProviderError({
          provider: this.name,
          ...(error.status !== undefined ? { status: error.status } : {}),
          code: error.code ?? null,
          message: error.message,
          ...(error.headers ? { headers: error.headers } : {}),
        });
      }
      if (error instanceof KeelError) throw error;
      // A body that is not what the API sends (a proxy's error page, a cut stream): try again later.
      throw new KeelError('transient', `${this.name}: unreadable response: ${(error as Error).message}`);
    }
  }
}

/** Chunks of a streamed completion, put back together as the whole answer. */
async function assemble(
  name: string,
  stream: AsyncIterable<OpenAI.ChatCompletionChunk>,
  onDelta: NonNullable<ModelRequest['onDelta']>,
  toolCall: (id: string, tool: string, args: string) => ModelToolCall,
): Promise<ModelResponse> {
  let text = '';
  let refusal = '';
  let model = '';
  let finish: string | null | undefined;
  let usage = { inputTokens: 0, outputTokens: 0 };
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  for await (const chunk of stream) {
    model ||= chunk.model;
    if (chunk.usage) usage = { inputTokens: chunk.usage.prompt_tokens ?? 0, outputTokens: chunk.usage.completion_tokens ?? 0 };
    const choice = chunk.choices[0];
    if (!choice) continue;
    finish = choice.finish_reason ?? finish;
    const delta = choice.delta;
    if (delta.refusal) refusal += delta.refusal;
    if (delta.content) {
      text += delta.content;
      onDelta({ text: delta.content });
    }
    for (const part of delta.tool_calls ?? []) {
      const call = (calls[part.index] ??= { id: '', name: '', arguments: '' });
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      if (part.function?.arguments) call.arguments += part.function.arguments;
      onDelta({ toolCall: { index: part.index, ...(part.function?.name ? { name: part.function.name } : {}), arguments: part.function?.arguments ?? '' } });
    }
  }
  if (refusal) throw new KeelError('semantic', `${name}: the model refused: ${refusal}`);
  if (finish === 'content_filter') throw new KeelError('semantic', `${name}: the answer was withheld by the content filter`);
  if (finish === undefined || finish === null) throw new KeelError('transient', `${name}: the stream ended before the answer did`);
  const toolCalls = calls.filter(Boolean).map((call) => toolCall(call.id, call.name, call.arguments));
  return { text, ...(toolCalls.length > 0 ? { toolCalls } : {}), model, usage };
}

/** A turn of the conversation as chat completions takes it. */
function openAITurn(turn: ChatTurn): OpenAI.ChatCompletionMessageParam {
  switch (turn.role) {
    case 'assistant':
      return { role: 'assistant', content: null, tool_calls: turn.toolCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.tool, arguments: JSON.stringify(call.input) } })) };
    case 'tool':
      return { role: 'tool', tool_call_id: turn.id, content: turn.content };
    case 'user':
      return { role: 'user', content: turn.content };
  }
}

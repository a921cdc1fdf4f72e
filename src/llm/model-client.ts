import type { ModelTier, Usage } from '../shared';

/** One call to a model. `jsonSchema` asks for structured output matching it. */
export interface ModelRequest {
  key: string;
  tier: ModelTier;
  /** The model the tier routes to. */
  model: string;
  system: string;
  prompt: string;
  jsonSchema?: Record<string, unknown>;
  /** Tools the model may call, through the provider's own tool calling (OpenAI `tools`, Anthropic `tool_use`). */
  tools?: ToolSpec[];
  /** The conversation after the prompt: the model's earlier tool calls and their results. */
  turns?: ChatTurn[];
  maxOutputTokens?: number;
  signal?: AbortSignal;
  /** Set to hear the answer as the provider streams it; the response is still the whole answer. */
  onDelta?: (delta: ModelDelta) => void;
}

/** A piece of an answer as it streams: text, or part of a tool call. */
export interface ModelDelta {
  text?: string;
  toolCall?: { index: number; name?: string; arguments: string };
}

export interface ModelResponse {
  /** The model's text: its answer, or empty when it called tools. */
  text: string;
  /** Set when the model called tools instead of answering; each with its input as an object. */
  toolCalls?: ModelToolCall[];
  model: string;
  usage: Usage;
}

/** A tool as a model is offered it: its name, what it does, and its input's JSON Schema. */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** One tool call; the id pairs it with its result in the turns that follow. */
export interface ModelToolCall {
  id: string;
  tool: string;
  input: Record<string, unknown>;
}

/** A turn of a tool-calling conversation after the prompt. */
export type ChatTurn = { role: 'assistant'; toolCalls: ModelToolCall[] } | { role: 'tool'; id: string; content: string } | { role: 'user'; content: string };

/** A model provider; the router picks the model. Errors are thrown as KeelError with their class. */
export interface ModelClient {
  readonly name: string;
  generate(request: ModelRequest): Promise<ModelResponse>;
  /** Asks the provider whether it accepts the key (a free call), for the worker's start. */
  checkKey?(): Promise<KeyCheck>;
}

/** `refused`: the provider said the key is wrong (401/403); otherwise it could not be asked. */
export type KeyCheck = { ok: true } | { ok: false; refused: boolean; message: string };

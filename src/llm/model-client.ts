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
  maxOutputTokens?: number;
  signal?: AbortSignal;
}

export interface ModelResponse {
  text: string;
  model: string;
  usage: Usage;
}

/** A model provider; the router picks the model. Errors are thrown as KeelError with their class. */
export interface ModelClient {
  readonly name: string;
  generate(request: ModelRequest): Promise<ModelResponse>;
}

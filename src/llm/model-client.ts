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

/** A model provider as activities see it. Errors are thrown as KeelError with their class. */
export interface ModelClient {
  readonly name: string;
  /** The model each tier routes to on this provider (default: the OpenAI names in pricing.ts). */
  readonly tierModels?: Record<ModelTier, string>;
  generate(request: ModelRequest): Promise<ModelResponse>;
}

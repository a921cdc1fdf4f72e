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
  /** Asks the provider whether it accepts the key (a free call), for the worker's start. */
  checkKey?(): Promise<KeyCheck>;
}

/** `refused`: the provider said the key is wrong (401/403); otherwise it could not be asked. */
export type KeyCheck = { ok: true } | { ok: false; refused: boolean; message: string };

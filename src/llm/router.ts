// Task tier → an ordered chain of (provider, model). Each member sits behind its own circuit
// breaker (one per provider and model per worker process) and the response cache. An open breaker
// is skipped at once; when every member fails, the call fails `transient` with every error listed,
// so Temporal retries it later.
import { KeelError, type FailureKind, type ModelTier, type TierCeiling } from '../shared';
import { CircuitBreaker, type BreakerState, type CircuitBreakerOptions } from './circuit-breaker';
import type { ChatTurn, ModelClient, ModelRequest, ModelResponse, ToolSpec } from './model-client';
import { costOf, estimateTokens, outputTokenCap, priceOf, type ModelPrice } from './pricing';
import { cacheKey, type ResponseCache } from './response-cache';

export interface RouteEntry {
  provider: string;
  model: string;
}
export type Routing = Record<ModelTier, RouteEntry[]>;

/** Tier → chain when the configuration says nothing: OpenAI first, Anthropic when OpenAI fails. */
export const defaultRouting: Routing = {
  small: [
    { provider: 'openai', model: 'gpt-4o-mini' },
    { provider: 'anthropic', model: 'claude-3-5-haiku-latest' },
  ],
  medium: [
    { provider: 'openai', model: 'gpt-4.1-mini' },
    { provider: 'anthropic', model: 'claude-3-5-haiku-latest' },
  ],
  large: [
    { provider: 'openai', model: 'gpt-4o' },
    { provider: 'anthropic', model: 'claude-sonnet-4-0' },
  ],
};

/** The first model of each default chain: what scripted runs report and the CLI shows. */
export const defaultTierModels: Record<ModelTier, string> = {
  small: defaultRouting.small[0]!.model,
  medium: defaultRouting.medium[0]!.model,
  large: defaultRouting.large[0]!.model,
};

export interface RoutedRequest {
  key: string;
  tier: ModelTier;
  system: string;
  prompt: string;
  jsonSchema?: Record<string, unknown>;
  tools?: ToolSpec[];
  turns?: ChatTurn[];
  /** What this call may cost at most; each model's output-token cap is derived from it. */
  reservedUsd: number;
  /** Deterministic and of a cacheable kind: answer from the cache when it can, store the answer. */
  cacheable: boolean;
  signal?: AbortSignal;
  /** Hears the answer as the provider streams it. */
  onDelta?: ModelRequest['onDelta'];
}

export interface RoutedResponse extends ModelResponse {
  provider: string;
  /** What was billed: 0 for a cache hit. */
  costUsd: number;
  /** Undefined when the call was not cacheable. */
  cache?: 'hit' | 'miss';
  /** Members tried before the one that answered, with why they were passed over. */
  passedOver: string[];
}

export interface BreakerReport {
  provider: string;
  model: string;
  state: BreakerState;
}

export interface ModelRouterOptions {
  providers: ModelClient[];
  routing?: Routing;
  prices?: Record<string, ModelPrice>;
  breaker?: CircuitBreakerOptions;
  cache?: ResponseCache;
}

/** Failures that say nothing about the member's health: the next one would fail the same way. */
const requestProblems: readonly FailureKind[] = ['context', 'malformed', 'semantic'];
/** The most output tokens any call asks for. */
export const defaultMaxOutputTokens = 4_096;
/** A call that could not write even this many tokens is not worth making. */
export const minimumOutputTokens = 16;

export class ModelRouter {
  readonly routing: Routing;
  readonly prices: Record<string, ModelPrice> | undefined;
  readonly cache: ResponseCache | undefined;
  private readonly providers = new Map<string, ModelClient>();
  private readonly breakerTable = new Map<string, CircuitBreaker>();
  private readonly breakerOptions: CircuitBreakerOptions;

  constructor(options: ModelRouterOptions) {
    for (const provider of options.providers) this.providers.set(provider.name, provider);
    this.routing = options.routing ?? defaultRouting;
    this.prices = options.prices;
    this.cache = options.cache;
    this.breakerOptions = options.breaker ?? {};
    const unserved = (Object.keys(this.routing) as ModelTier[]).filter((tier) => this.chain(tier).length === 0);
    if (unserved.length > 0) {
      throw new KeelError(
        'permanent',
        `no configured provider serves tier ${unserved.join(', ')}: routing names ${unserved
          .map((tier) => `${tier} → ${this.routing[tier].map((entry) => entry.provider).join(', ') || 'nothing'}`)
          .join('; ')}, but the providers with a key are ${[...this.providers.keys()].join(', ') || 'none'}`,
      );
    }
  }

  /** The configured providers, for the start-up key check. */
  get clients(): ModelClient[] {
    return [...this.providers.values()];
  }

  get name(): string {
    return [...this.providers.keys()].join('→');
  }

  /** The members of a tier's chain whose provider is configured, in order. */
  chain(tier: ModelTier): RouteEntry[] {
    return this.routing[tier].filter((entry) => this.providers.has(entry.provider));
  }

  /** The dearest prices of a tier's chain: what one call can cost at most. */
  ceiling(tier: ModelTier): TierCeiling {
    const prices = this.chain(tier).map((entry) => priceOf(entry.model, this.prices));
    return {
      inputPerMillion: Math.max(...prices.map((price) => price.inputPerMillion)),
      outputPerMillion: Math.max(...prices.map((price) => price.outputPerMillion)),
      maxOutputTokens: defaultMaxOutputTokens,
    };
  }

  /** The state of every breaker of the routing, for `keel status` and metrics. */
  breakers(tier?: ModelTier): BreakerReport[] {
    const entries = tier ? this.chain(tier) : (Object.keys(this.routing) as ModelTier[]).flatMap((each) => this.chain(each));
    const seen = new Set<string>();
    return entries
      .filter((entry) => {
        const id = `${entry.provider}/${entry.model}`;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      })
      .map((entry) => ({ ...entry, state: this.breaker(entry).state }));
  }

  async generate(request: RoutedRequest): Promise<RoutedResponse> {
    return this.generateWith(this.chain(request.tier), request);
  }

  private async generateWith(chain: RouteEntry[], request: RoutedRequest): Promise<RoutedResponse> {
    const passedOver: string[] = [];
    const failures: KeelError[] = [];
    let unaffordable = 0;
    const inputTokens = estimateTokens(request.system + request.prompt + (request.tools ? JSON.stringify([request.tools, request.turns ?? []]) : ''));
    for (const entry of chain) {
      const label = `${entry.provider} ${entry.model}`;
      const breaker = this.breaker(entry);
      if (!breaker.allows()) {
        passedOver.push(`${label}: circuit open`);
        continue;
      }
      const cap = Math.min(defaultMaxOutputTokens, outputTokenCap(entry.model, inputTokens, request.reservedUsd, this.prices));
      if (cap < minimumOutputTokens) {
        unaffordable += 1;
        passedOver.push(`${label}: the $${request.reservedUsd.toFixed(6)} this call may spend cannot pay for it`);
        continue;
      }
      const key = request.cacheable && this.cache ? cacheKey({
              ...entry,
              system: request.system,
              prompt: request.prompt,
              ...(request.jsonSchema ? { jsonSchema: request.jsonSchema } : {}),
              ...(request.tools ? { tools: request.tools, turns: request.turns ?? [] } : {}),
              params: { temperature: 0 },
            }) : undefined;
      if (key && this.cache) {
        const cached = await this.cache.get(key).catch(() => undefined); // a cache outage is a miss, not a failure
        if (cached) return { ...cached, provider: entry.provider, costUsd: 0, cache: 'hit', passedOver };
      }
      const client = this.providers.get(entry.provider)!;
      try {
        const response = await client.generate({
          key: request.key,
          tier: request.tier,
          model: entry.model,
          system: request.system,
          prompt: request.prompt,
          maxOutputTokens: cap,
          ...(request.jsonSchema ? { jsonSchema: request.jsonSchema } : {}),
          ...(request.tools ? { tools: request.tools, turns: request.turns ?? [] } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
          ...(request.onDelta ? { onDelta: request.onDelta } : {}),
        });
        breaker.recordSuccess();
        if (key && this.cache) await this.cache.set(key, response).catch(() => undefined);
        return { ...response, provider: entry.provider, costUsd: costOf(response.model, response.usage, this.prices), ...(key ? { cache: 'miss' as const } : {}), passedOver };
      } catch (error) {
        if (error instanceof KeelError && requestProblems.includes(error.kind)) throw error;
        breaker.recordFailure();
        failures.push(error instanceof KeelError ? error : new KeelError('transient', (error as Error).message));
        passedOver.push(`${label}: ${(error as Error).message}`);
      }
    }
    if (unaffordable > 0 && failures.length === 0) {
      throw new KeelError('budget', `the budget left cannot pay for a ${request.tier} call: ${passedOver.join('; ')}`);
    }
    throw chainFailure(request.tier, failures, passedOver);
  }

  /**
   * Consensus: the same request on `count` distinct models of the tier's chain at once (open
   * breakers skipped, the budget split evenly). Fails when fewer than `count` models answer.
   */
  async generateEach(request: RoutedRequest, count: number): Promise<RoutedResponse[]> {
    const members = this.chain(request.tier).filter((entry) => this.breaker(entry).allows());
    if (members.length < count) {
      throw new KeelError('transient', `consensus needs ${count} models of the ${request.tier} tier, but ${members.length} are available (${this.chain(request.tier).length} routed, the rest behind open breakers)`);
    }
    const share = { ...request, reservedUsd: request.reservedUsd / count };
    return Promise.all(members.slice(0, count).map((entry) => this.generateWith([entry], share)));
  }

  private breaker(entry: RouteEntry): CircuitBreaker {
    const id = `${entry.provider}/${entry.model}`;
    let breaker = this.breakerTable.get(id);
    if (!breaker) {
      breaker = new CircuitBreaker(this.breakerOptions);
      this.breakerTable.set(id, breaker);
    }
    return breaker;
  }
}

/**
 * When every member failed the same way (one provider's 429, say), the call fails that way, with
 * the shortest Retry-After; mixed failures are `transient`. Either way every member is named.
 */
function chainFailure(tier: ModelTier, failures: KeelError[], passedOver: string[]): KeelError {
  const message = passedOver.length === 1 ? passedOver[0]! : `every model in the ${tier} chain failed: ${passedOver.join('; ')}`;
  const kinds = new Set(failures.map((failure) => failure.kind));
  const kind = failures.length === passedOver.length && kinds.size === 1 ? failures[0]!.kind : 'transient';
  const delays = failures.map((failure) => failure.options.retryAfterMs).filter((delay): delay is number => delay !== undefined);
  return new KeelError(kind, message, kind === 'rate_limit' && delays.length > 0 ? { retryAfterMs: Math.min(...delays) } : {});
}

// An ordered chain of providers, each behind its own circuit breaker. An open breaker is skipped
// at once; when every provider fails, the call fails `transient` with every error listed, so
// Temporal retries it later.
import { KeelError, type FailureKind } from '../shared';
import { CircuitBreaker, type BreakerState, type CircuitBreakerOptions } from './circuit-breaker';
import type { ModelClient, ModelRequest, ModelResponse } from './model-client';

/** Failures that say nothing about the provider's health: the next provider would fail the same way. */
const requestProblems: readonly FailureKind[] = ['context', 'budget', 'malformed', 'semantic'];

export class FallbackChainModel implements ModelClient {
  readonly name: string;
  private readonly members: Array<{ client: ModelClient; breaker: CircuitBreaker }>;

  constructor(clients: ModelClient[], breakerOptions: CircuitBreakerOptions = {}) {
    if (clients.length === 0) throw new TypeError('a fallback chain needs at least one provider');
    this.members = clients.map((client) => ({ client, breaker: new CircuitBreaker(breakerOptions) }));
    this.name = clients.map((client) => client.name).join('→');
  }

  /** Breaker state per provider, for `keel status` and metrics. */
  get breakers(): Record<string, BreakerState> {
    return Object.fromEntries(this.members.map(({ client, breaker }) => [client.name, breaker.state]));
  }

  async generate(request: ModelRequest): Promise<ModelResponse> {
    const errors: string[] = [];
    for (const { client, breaker } of this.members) {
      const model = client.tierModels?.[request.tier] ?? request.model;
      if (!breaker.allows()) {
        errors.push(`${client.name} ${model}: circuit open`);
        continue;
      }
      try {
        const response = await client.generate({ ...request, model });
        breaker.recordSuccess();
        return response;
      } catch (error) {
        if (error instanceof KeelError && requestProblems.includes(error.kind)) throw error;
        breaker.recordFailure();
        errors.push(`${client.name} ${model}: ${(error as Error).message}`);
      }
    }
    throw new KeelError('transient', `every model in the chain failed: ${errors.join('; ')}`);
  }
}

// One breaker per provider per worker process: closed → open after N failures → half-open after a
// reset time → closed after M successes (or open again on a failure).
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. Default 5. */
  failureThreshold?: number;
  /** How long an open breaker stays open before letting a trial call through. Default 30 s. */
  resetMs?: number;
  /** Successes in half-open that close it again. Default 2. */
  halfOpenSuccesses?: number;
  /** Injected for tests. */
  now?: () => number;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private successes = 0;
  private openedAt = 0;
  private readonly failureThreshold: number;
  private readonly resetMs: number;
  private readonly halfOpenSuccesses: number;
  private readonly now: () => number;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.resetMs = options.resetMs ?? 30_000;
    this.halfOpenSuccesses = options.halfOpenSuccesses ?? 2;
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.resetMs) {
      this.current = 'half_open';
      this.successes = 0;
    }
    return this.current;
  }

  /** False while open: the caller skips this provider at once. */
  allows(): boolean {
    return this.state !== 'open';
  }

  recordSuccess(): void {
    if (this.state === 'half_open') {
      this.successes += 1;
      if (this.successes >= this.halfOpenSuccesses) this.current = 'closed';
    }
    if (this.current === 'closed') this.failures = 0;
  }

  recordFailure(): void {
    if (this.state === 'half_open') return this.open();
    this.failures += 1;
    if (this.failures >= this.failureThreshold) this.open();
  }

  private open(): void {
    this.current = 'open';
    this.openedAt = this.now();
    this.failures = 0;
  }
}

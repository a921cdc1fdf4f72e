// Metrics only the worker knows: its circuit breakers and its response cache. Emitted through the
// activity's metric meter, so they are exported with Temporal's runtime metrics.
import { Context } from '@temporalio/activity';
import type { BreakerSnapshot } from '../shared';

export const workerMetrics = {
  breakerState: 'keel_model_breaker_state',
  cacheHits: 'keel_cache_hits',
  cacheMisses: 'keel_cache_misses',
} as const;

/** Gauge values: 0 closed, 1 half-open, 2 open (alert on 2). */
export const breakerStateValue = { closed: 0, half_open: 1, open: 2 } as const;

export function recordBreakers(breakers: BreakerSnapshot[]): void {
  const gauge = Context.current().metricMeter.createGauge(workerMetrics.breakerState, 'int', '', 'Circuit breaker per provider and model: 0 closed, 1 half-open, 2 open');
  for (const breaker of breakers) gauge.set(breakerStateValue[breaker.state], { provider: breaker.provider, model: breaker.model });
}

export function recordCacheLookup(outcome: 'hit' | 'miss'): void {
  const meter = Context.current().metricMeter;
  if (outcome === 'hit') meter.createCounter(workerMetrics.cacheHits, 'calls', 'Model calls answered from the response cache').add(1);
  else meter.createCounter(workerMetrics.cacheMisses, 'calls', 'Cacheable model calls the cache could not answer').add(1);
}

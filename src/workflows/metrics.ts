// Keel's own metrics, emitted through the SDK's workflow metric meter: exported with Temporal's
// runtime metrics by the worker, and not emitted again when a history is replayed.
import { metricMeter, workflowInfo } from '@temporalio/workflow';
import type { ModelCallReport } from '../shared/workflow';

/** Metric names, for deploy/alerts.yml and its test. Costs are integer micro-dollars (counters are integers). */
export const keelMetrics = {
  runs: 'keel_runs',
  runDuration: 'keel_run_duration',
  taskFailures: 'keel_task_failures',
  taskRetries: 'keel_task_retries',
  replans: 'keel_replans',
  escalationsStarted: 'keel_escalations_started',
  escalationsDecided: 'keel_escalations_decided',
  modelTokens: 'keel_model_tokens',
  modelCost: 'keel_model_cost_microusd',
} as const;

export function recordRunEnded(status: string): void {
  metricMeter.createCounter(keelMetrics.runs, 'runs', 'Runs that ended, by status').add(1, { status });
  const startedMs = workflowInfo().runStartTime.getTime();
  metricMeter.createHistogram(keelMetrics.runDuration, 'int', 'ms', 'Run duration').record(Math.max(0, Date.now() - startedMs), { status });
}

export function recordTaskFailure(kind: string, retries: number): void {
  metricMeter.createCounter(keelMetrics.taskFailures, 'failures', 'Task attempts that ended in failure, by class').add(1, { kind });
  recordRetries(retries);
}

export function recordRetries(retries: number): void {
  if (retries > 0) metricMeter.createCounter(keelMetrics.taskRetries, 'retries', 'Task retries by Temporal').add(retries);
}

export function recordReplan(): void {
  metricMeter.createCounter(keelMetrics.replans, 'replans', 'Replans asked for').add(1);
}

export function recordEscalation(phase: 'started' | 'decided', kind: string): void {
  const name = phase === 'started' ? keelMetrics.escalationsStarted : keelMetrics.escalationsDecided;
  metricMeter.createCounter(name, 'escalations', `Escalations ${phase}; waiting = started - decided`).add(1, { kind });
}

export function recordModelCall(call: ModelCallReport): void {
  metricMeter.createCounter(keelMetrics.modelTokens, 'tokens', 'Model tokens by model and direction').add(call.usage.inputTokens, { model: call.model, direction: 'input' });
  metricMeter.createCounter(keelMetrics.modelTokens, 'tokens', 'Model tokens by model and direction').add(call.usage.outputTokens, { model: call.model, direction: 'output' });
  metricMeter.createCounter(keelMetrics.modelCost, 'micro-USD', 'Model spend by model').add(Math.round(call.costUsd * 1e6), { model: call.model });
}

// Activity proxies with Keel's timeouts and retry policies. Retry or not is decided by the
// activity (ApplicationFailure.nonRetryable); the list here is a second guard.
import { proxyActivities, proxyLocalActivities, type ActivityOptions } from '@temporalio/workflow';
import { type KeelActivities, type Task, attemptsByKind, nonRetryableFailureKinds } from '../shared/workflow';

export const defaultTimeoutMs = { model: 30_000, tool: 60_000, plan: 60_000 } as const;

/** Activities heartbeat while they run: a call on a worker that died is retried after this, not its whole timeout. */
export const heartbeatTimeoutMs = 10_000;

const retry = {
  initialInterval: '500ms',
  backoffCoefficient: 2,
  maximumInterval: '60s',
  nonRetryableErrorTypes: nonRetryableFailureKinds,
} as const;

export function plannerActivities(): Pick<KeelActivities, 'plan' | 'synthesize' | 'evaluate'> & { attempts: number } {
  const attempts = 4;
  const options: ActivityOptions = { startToCloseTimeout: defaultTimeoutMs.plan, heartbeatTimeout: heartbeatTimeoutMs, retry: { ...retry, maximumAttempts: attempts } };
  const { plan } = proxyActivities<KeelActivities>({ ...options, summary: 'plan' });
  const { synthesize } = proxyActivities<KeelActivities>({ ...options, summary: 'synthesize' });
  const { evaluate } = proxyActivities<KeelActivities>({ ...options, summary: 'evaluate' });
  return { plan, synthesize, evaluate, attempts };
}

export function taskActivity(task: Task): { runTask: KeelActivities['runTask']; attempts: number } {
  const attempts = task.maxAttempts ?? attemptsByKind.rate_limit;
  const timeout = task.timeoutMs ?? (task.kind === 'tool' ? defaultTimeoutMs.tool : defaultTimeoutMs.model);
  const { runTask } = proxyActivities<KeelActivities>({
    startToCloseTimeout: timeout,
    heartbeatTimeout: Math.min(heartbeatTimeoutMs, timeout),
    retry: { ...retry, maximumAttempts: attempts },
    summary: task.kind === 'tool' ? `${task.id} · ${task.tool}` : `${task.id} · ${task.kind}`,
  });
  return { runTask, attempts };
}

/** Reads the history: cheap, and retried like any read. */
export function historyActivities(): Pick<KeelActivities, 'signalSender'> {
  return proxyActivities<KeelActivities>({ startToCloseTimeout: '10s', retry: { ...retry, maximumAttempts: 3 }, summary: 'who decided' });
}

/**
 * What this worker can run, for a plan the request brought. A local activity: it only reads the
 * worker's own registry and prices, so it needs no task queue round trip, only a marker in history.
 */
export function workerFactsActivity(): Pick<KeelActivities, 'workerFacts' | 'toolInputSchema' | 'approvalTrust'> {
  return proxyLocalActivities<KeelActivities>({ startToCloseTimeout: '10s', retry: { ...retry, maximumAttempts: 3 }, summary: 'worker facts' });
}

/** An agent task's activities: each step a model call, each tool call its own activity, labelled for the Web UI. */
export function agentStepActivity(task: Task, step: number): { agentStep: KeelActivities['agentStep']; attempts: number } {
  const attempts = task.maxAttempts ?? attemptsByKind.rate_limit;
  const { agentStep } = proxyActivities<KeelActivities>({
    startToCloseTimeout: defaultTimeoutMs.model,
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { ...retry, maximumAttempts: attempts },
    summary: `${task.id} · step ${step}`,
  });
  return { agentStep, attempts };
}

export function agentToolActivity(task: Task, tool: string): { callTool: KeelActivities['callTool']; attempts: number } {
  const attempts = attemptsByKind.rate_limit;
  const { callTool } = proxyActivities<KeelActivities>({
    startToCloseTimeout: defaultTimeoutMs.tool,
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { ...retry, maximumAttempts: attempts },
    summary: `${task.id} · ${tool}`,
  });
  return { callTool, attempts };
}

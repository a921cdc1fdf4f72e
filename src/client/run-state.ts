// A run's state once it has ended, read from its result: no worker needed.
import type { RunResult, RunState } from '../shared';

/** The state an ended run reports, from its result. */
export function stateFromResult(result: RunResult): RunState {
  return {
    workflowId: result.workflowId,
    phase: result.status,
    goal: result.goal,
    plans: result.plans,
    tasks: result.tasks.map((task) => ({
      id: task.id,
      kind: task.kind,
      plan: task.plan,
      description: '',
      dependsOn: [],
      status: task.status,
      attempts: task.attempts,
      costUsd: task.costUsd,
      ...(task.tool ? { tool: task.tool } : {}),
      ...(task.model ? { model: task.model } : {}),
      ...(task.error ? { error: task.error } : {}),
    })),
    planHistory: result.planHistory,
    ignoredSignals: [],
    costUsd: result.costUsd,
    budgetUsd: result.budgetUsd,
    tokens: result.tokens,
    cache: result.cache,
    reservedUsd: 0,
    ...(result.breakers ? { breakers: result.breakers } : {}),
    result,
  };
}

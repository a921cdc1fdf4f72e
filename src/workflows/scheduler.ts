// Runs a validated plan: each task starts as soon as its own dependencies are done.
import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';
import { ModelKey, type AgentRequest, type Task } from '../shared';
import { taskActivity } from './activities';
import { summarizeFailure } from './activity-failure';
import type { RunRecord } from './run-record';

export async function executePlan(order: Task[], request: AgentRequest, record: RunRecord, idempotencyKey: string): Promise<void> {
  const scope = new CancellationScope();
  const finished = new Map<string, Promise<boolean>>();

  const runWhenReady = async (task: Task): Promise<boolean> => {
    const entry = record.task(task.id);
    const dependenciesDone = await Promise.all(task.dependsOn.map((id) => finished.get(id) ?? Promise.resolve(false)));
    if (!dependenciesDone.every(Boolean) || record.halt) {
      entry.status = 'cancelled';
      entry.error = record.halt
        ? { kind: 'cancelled', message: `not started: ${record.halt.reason}` }
        : { kind: 'dependency', message: `not started: a dependency of ${task.id} did not complete` };
      return false;
    }
    if (task.kind === 'llm' && record.ledger.exhausted) {
      record.stop({ status: 'budget_exhausted', reason: `budget of $${record.ledger.budgetUsd} spent before task ${task.id}` });
      scope.cancel();
      entry.status = 'cancelled';
      return false;
    }
    return runTask(task);
  };

  const runTask = async (task: Task): Promise<boolean> => {
    const entry = record.task(task.id);
    const activity = taskActivity(task);
    const modelScript = task.kind === 'llm' ? record.modelScript(ModelKey.task(task.id)) : undefined;
    const toolScript = task.kind === 'tool' && task.tool ? record.toolScript(task.tool) : undefined;
    const scriptKey = modelScript?.key ?? toolScript?.key;
    entry.status = 'running';
    try {
      const output = await activity.runTask({
        goal: request.goal,
        runInput: request.input,
        task,
        dependencies: Object.fromEntries(task.dependsOn.map((id) => [id, record.outputOf(id)])),
        remainingBudgetUsd: record.ledger.remainingUsd,
        idempotencyKey: `${idempotencyKey}:${task.id}`,
        ...(modelScript ? { modelScript } : {}),
        ...(toolScript ? { toolScript } : {}),
      });
      record.consume(scriptKey, output.attempt);
      record.ledger.charge(output.call);
      entry.status = 'completed';
      entry.attempts = output.attempt;
      entry.output = output.output;
      entry.costUsd += output.call?.costUsd ?? 0;
      if (output.call) entry.model = output.call.model;
      return true;
    } catch (error) {
      const failure = summarizeFailure(error, activity.attempts);
      record.consume(scriptKey, failure.attempts);
      record.ledger.charge(failure.details?.call);
      entry.costUsd += failure.details?.call?.costUsd ?? 0;
      entry.attempts = failure.attempts;
      if (isCancellation(error)) {
        entry.status = 'cancelled';
        entry.error = { kind: 'cancelled', message: `cancelled: ${record.halt?.reason ?? 'the run stopped'}` };
        return false;
      }
      entry.status = 'failed';
      entry.error = { kind: failure.kind, message: failure.message };
      const plural = failure.attempts === 1 ? 'attempt' : 'attempts';
      const what = task.kind === 'tool' ? `${task.id} (${task.tool})` : task.id;
      record.stop({
        status: failure.kind === 'budget' ? 'budget_exhausted' : 'failed',
        reason: `task ${what} failed after ${failure.attempts} ${plural}: ${failure.kind}: ${failure.message}`,
      });
      scope.cancel();
      return false;
    }
  };

  const deadlineTimer = watchDeadline(request, record, scope);
  try {
    await scope.run(async () => {
      for (const task of order) finished.set(task.id, runWhenReady(task));
      await Promise.all(finished.values());
    });
  } catch (error) {
    if (!isCancellation(error)) throw error;
  } finally {
    deadlineTimer.cancel();
  }
}

/** Stops scheduling and cancels work in flight when the request's deadline passes. */
function watchDeadline(request: AgentRequest, record: RunRecord, work: CancellationScope): CancellationScope {
  const timerScope = new CancellationScope();
  if (!request.deadline) return timerScope;
  const remainingMs = Date.parse(request.deadline) - Date.now();
  timerScope
    .run(() => sleep(Math.max(1, remainingMs)))
    .then(
      () => {
        record.stop({ status: 'failed', reason: `deadline ${request.deadline} passed` });
        work.cancel();
      },
      () => undefined, // the timer was cancelled because the plan finished first
    );
  return timerScope;
}

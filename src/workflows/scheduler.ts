// Runs a validated plan: each task starts as soon as its own dependencies are done.
import { CancellationScope, condition, isCancellation, sleep } from '@temporalio/workflow';
import type { Task } from '../shared/workflow';
import type { ReplanTrigger, RunContext } from './run-context';
import { minimumReservationUsd } from './budget';
import { runTask } from './task-runner';

export type ExecutionEnd = { kind: 'done' } | { kind: 'replan'; trigger: ReplanTrigger };

export async function executePlan(order: Task[], context: RunContext): Promise<ExecutionEnd> {
  const { record } = context;
  const scope = new CancellationScope();
  const finished = new Map<string, Promise<boolean>>();
  const { tasks } = record;
  const dependencyDone = (id: string): Promise<boolean> => finished.get(id) ?? Promise.resolve(tasks.isSatisfied(id));

  const runWhenReady = async (task: Task): Promise<boolean> => {
    const ready = await Promise.all(task.dependsOn.map(dependencyDone));
    context.replan ??= context.operatorReplan;
    if (record.halt || context.replan) {
      tasks.cancel(task.id, { kind: 'cancelled', message: `not started: ${record.halt?.reason ?? `replanning (${context.replan!.reason})`}` });
      return false;
    }
    const blocking = task.dependsOn.filter((_id, index) => !ready[index]);
    if (blocking.length > 0) {
      const skipped = blocking.filter((id) => tasks.find(id)?.status === 'skipped');
      if (skipped.length === blocking.length && !task.critical) {
        tasks.skip(task.id, { kind: 'dependency', message: `skipped: it depends on skipped ${skipped.join(', ')}` });
        return false;
      }
      if (skipped.length === blocking.length) {
        context.replan ??= { reason: `critical task ${task.id} depends on skipped ${skipped.join(', ')}` };
      }
      tasks.cancel(task.id, { kind: 'dependency', message: `not started: ${blocking.join(', ')} did not complete` });
      return false;
    }
    if ((task.kind === 'llm' || task.kind === 'agent') && !(await budgetAllows(task, context))) {
      if (tasks.get(task.id).status !== 'skipped') tasks.cancel(task.id, { kind: 'budget', message: 'not started: the budget is spent' });
      return false;
    }
    return runTask(task, context);
  };

  const deadlineTimer = watchDeadline(context, scope);
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
  const trigger = context.replan ?? context.operatorReplan;
  context.replan = undefined;
  context.operatorReplan = undefined;
  return trigger && !record.halt ? { kind: 'replan', trigger } : { kind: 'done' };
}

/**
 * Whether a model task may start. While calls in flight hold the rest of the budget, it waits for
 * them to settle. With nothing left: a non-critical task is skipped, a critical one asks a human.
 */
async function budgetAllows(task: Task, context: RunContext): Promise<boolean> {
  const { ledger } = context.record;
  if (ledger.availableUsd < minimumReservationUsd && ledger.reservedUsd > 0) {
    await condition(() => ledger.availableUsd >= minimumReservationUsd || ledger.reservedUsd === 0);
  }
  if (ledger.availableUsd >= minimumReservationUsd) return true;
  if (!task.critical) {
    context.record.tasks.skip(task.id, { kind: 'budget', message: `skipped (non-critical): the budget of $${ledger.budgetUsd} is spent` });
    return false;
  }
  return budgetApproved(task, context);
}

/** Asks a human before spending past the budget; true when they raised it. */
async function budgetApproved(task: Task, context: RunContext): Promise<boolean> {
  const { record, request } = context;
  const { outcome } = await context.desk.escalate({
    escalation: { kind: 'budget_exhausted', task, beforeStart: true, budgetUsd: record.ledger.budgetUsd, raiseUsd: request.budgetUsd },
    reason: `the budget of $${record.ledger.budgetUsd} is spent before task ${task.id}`,
    attempted: record.tasks.currentEntries.filter((entry) => entry.status === 'completed').map((entry) => `${entry.task.id} completed ($${entry.costUsd.toFixed(4)})`),
  });
  // Offered here: approve (raise_budget) and reject (halt).
  if (outcome.type === 'raise_budget') {
    record.ledger.extend(outcome.amountUsd);
    return true;
  }
  if (outcome.type === 'halt') record.stop({ status: outcome.status, reason: outcome.reason });
  return false;
}

/** Stops scheduling and cancels work in flight when the request's deadline passes. */
function watchDeadline(context: RunContext, work: CancellationScope): CancellationScope {
  const timerScope = new CancellationScope();
  const { deadline } = context.request;
  if (!deadline) return timerScope;
  const remainingMs = Date.parse(deadline) - Date.now();
  timerScope
    .run(() => sleep(Math.max(1, remainingMs), { summary: `deadline ${deadline}` }))
    .then(
      () => {
        context.record.stop({ status: 'failed', reason: `deadline ${deadline} passed` });
        work.cancel();
      },
      () => undefined, // the timer was cancelled because the plan finished first
    );
  return timerScope;
}

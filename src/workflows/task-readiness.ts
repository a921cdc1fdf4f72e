// Whether a task whose dependencies have ended may start: the run is not stopping or replanning,
// what it depends on completed, and a model task has budget to spend (or a human raised it).
import { condition } from '@temporalio/workflow';
import type { Task } from '../shared/workflow';
import type { RunContext } from './run-context';
import { minimumReservationUsd } from './budget';

/**
 * True when the task may start, given whether each of its dependencies is satisfied (in
 * `dependsOn` order). Otherwise the task is cancelled or skipped here, and false.
 */
export function mayStart(task: Task, satisfied: boolean[], context: RunContext): boolean {
  const { record } = context;
  const { tasks } = record;
  context.replan ??= context.operatorReplan;
  if (record.halt || context.replan) {
    tasks.cancel(task.id, { kind: 'cancelled', message: `not started: ${record.halt?.reason ?? `replanning (${context.replan!.reason})`}` });
    return false;
  }
  const blocking = task.dependsOn.filter((_id, index) => !satisfied[index]);
  if (blocking.length === 0) return true;
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

/** Model and agent tasks spend the budget; tool and review tasks do not ask it. */
export function spendsBudget(task: Task): boolean {
  return task.kind === 'llm' || task.kind === 'agent';
}

/** True when a model task may start now, with no wait for calls in flight and no human. */
export function budgetAllowsNow(context: RunContext): boolean {
  return context.record.ledger.availableUsd >= minimumReservationUsd;
}

/**
 * Whether a model task may start. While calls in flight hold the rest of the budget, it waits for
 * them to settle. With nothing left: a non-critical task is skipped, a critical one asks a human.
 */
export async function budgetAllows(task: Task, context: RunContext): Promise<boolean> {
  const { ledger } = context.record;
  if (ledger.availableUsd < minimumReservationUsd && ledger.reservedUsd > 0) {
    await condition(() => ledger.availableUsd >= minimumReservationUsd || ledger.reservedUsd === 0);
  }
  if (budgetAllowsNow(context)) return true;
  if (!task.critical) {
    context.record.tasks.skip(task.id, { kind: 'budget', message: `skipped (non-critical): the budget of $${ledger.budgetUsd} is spent` });
    return false;
  }
  return budgetApproved(task, context);
}

/** A task the budget did not allow: cancelled, unless budgetAllows skipped it. Always false. */
export function budgetRefused(task: Task, context: RunContext): false {
  const { tasks } = context.record;
  if (tasks.get(task.id).status !== 'skipped') tasks.cancel(task.id, { kind: 'budget', message: 'not started: the budget is spent' });
  return false;
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

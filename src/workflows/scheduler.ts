// Runs a validated plan: each task starts as soon as its own dependencies are done.
import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';
import type { Task } from '../shared/workflow';
import type { ReplanTrigger, RunContext } from './run-context';
import { runAllAwaiting } from './awaiting-scheduler';
import { budgetAllows, budgetAllowsNow, budgetRefused, mayStart, spendsBudget } from './task-readiness';
import { startTask } from './task-runner';

export type ExecutionEnd = { kind: 'done' } | { kind: 'replan'; trigger: ReplanTrigger };

export async function executePlan(order: Task[], context: RunContext): Promise<ExecutionEnd> {
  const { record, leanRun } = context;
  const scope = new CancellationScope();
  const deadlineTimer = watchDeadline(context, scope);
  try {
    // Runs recorded before leanRunPatch keep the awaiting path (run-context.ts).
    await scope.run(() => (leanRun ? runAll(order, context) : runAllAwaiting(order, context)));
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
 * Runs every task of the plan, each as soon as the last of its dependencies ends, with callbacks
 * rather than awaits: a task that ends starts its dependents in the same step. Resolves when all
 * have ended; rejects with the first error a task throws (a cancellation, or a continue-as-new).
 */
function runAll(order: Task[], context: RunContext): Promise<void> {
  const { tasks } = context.record;
  const inPlan = new Set(order.map((task) => task.id));
  const dependents = new Map<string, Task[]>();
  for (const task of order) {
    for (const id of new Set(task.dependsOn)) {
      if (!inPlan.has(id)) continue;
      const waiting = dependents.get(id);
      if (waiting) waiting.push(task);
      else dependents.set(id, [task]);
    }
  }
  // Satisfied or not, by task id, once a task of this plan has ended; a dependency from an earlier plan asks the board.
  const ended = new Map<string, boolean>();
  const started = new Set<string>();
  return new Promise<void>((resolve, reject) => {
    const end = (task: Task, satisfied: boolean): void => {
      ended.set(task.id, satisfied);
      for (const dependent of dependents.get(task.id) ?? []) startIfReady(dependent);
      if (ended.size === order.length) resolve();
    };
    const startIfReady = (task: Task): void => {
      if (started.has(task.id) || task.dependsOn.some((id) => inPlan.has(id) && !ended.has(id))) return;
      started.add(task.id);
      let run: Promise<boolean> | boolean;
      try {
        run = startWhenReady(task, task.dependsOn.map((id) => ended.get(id) ?? tasks.isSatisfied(id)), context);
      } catch (error) {
        reject(error);
        return;
      }
      if (typeof run === 'boolean') end(task, run);
      else run.then((satisfied) => end(task, satisfied), reject);
    };
    for (const task of order) startIfReady(task);
    if (order.length === 0) resolve();
  });
}

/** A task whose dependencies have ended: ended here (false) or started; waits only when the budget makes it. */
function startWhenReady(task: Task, satisfied: boolean[], context: RunContext): Promise<boolean> | boolean {
  if (!mayStart(task, satisfied, context)) return false;
  if (!spendsBudget(task) || budgetAllowsNow(context)) return startTask(task, context);
  return budgetAllows(task, context).then((allowed) => (allowed ? startTask(task, context) : budgetRefused(task, context)));
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

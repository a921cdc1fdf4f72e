// How runs recorded before patch `keel-lean-run` ran their plans, kept as it was so that their
// histories replay: each task awaits its dependencies and then runTask, and the number of awaits
// on that path sets the order in which tasks ready at one moment schedule their activities.
// New runs take scheduler.ts's runAll.
import type { Task } from '../shared/workflow';
import type { RunContext } from './run-context';
import { budgetAllows, budgetRefused, mayStart, spendsBudget } from './task-readiness';
import { runTask } from './task-runner';

/** Runs every task of the plan, each after its own dependencies; resolves when all have ended. */
export async function runAllAwaiting(order: Task[], context: RunContext): Promise<void> {
  const { tasks } = context.record;
  const finished = new Map<string, Promise<boolean>>();
  const dependencyDone = (id: string): Promise<boolean> => finished.get(id) ?? Promise.resolve(tasks.isSatisfied(id));

  const runWhenReady = async (task: Task): Promise<boolean> => {
    const ready = await Promise.all(task.dependsOn.map(dependencyDone));
    if (!mayStart(task, ready, context)) return false;
    if (spendsBudget(task) && !(await budgetAllows(task, context))) return budgetRefused(task, context);
    return runTask(task, context);
  };

  for (const task of order) finished.set(task.id, runWhenReady(task));
  await Promise.all(finished.values());
}

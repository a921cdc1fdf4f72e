// Checks on a request that zod's schema cannot make (it would lose .omit()), made before a run
// starts: by the client (and so the ingest server) and by scenario files. The workflow checks the
// same through validatePlan, for runs started without the client.
import type { AgentRequest } from './request';

/** Problems with how the request's `plan` and `outputFrom` (its own or its plan's) fit together; none when they do. */
export function requestProblems(request: Pick<AgentRequest, 'plan' | 'outputFrom'>): string[] {
  const { plan, outputFrom } = request;
  if (!plan) return [];
  const ids = plan.tasks.map((task) => task.id);
  const problems: string[] = [];
  if (outputFrom !== undefined && plan.outputFrom !== undefined && outputFrom !== plan.outputFrom) {
    problems.push(`outputFrom: the request says "${outputFrom}" and its plan says "${plan.outputFrom}": give one of them`);
  }
  for (const [where, id] of [['outputFrom', outputFrom], ['plan.outputFrom', plan.outputFrom]] as const) {
    if (id !== undefined && !ids.includes(id)) {
      problems.push(`${where}: the plan has no task "${id}" (its tasks: ${ids.join(', ')}): name the task whose output is the run's answer`);
    }
  }
  return problems;
}

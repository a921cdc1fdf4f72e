// Checks on a request that zod's schema cannot make (it would lose .omit()), made before a run
// starts: by the client (and so the ingest server) and by scenario files. The workflow checks the
// same through validatePlan's answerTaskId, for runs started without the client.
import type { AgentRequest } from './request';

/** Problems with how the request's `plan` and `outputFrom` fit together; none when they do. */
export function requestProblems(request: Pick<AgentRequest, 'plan' | 'outputFrom'>): string[] {
  const { plan, outputFrom } = request;
  if (!plan || outputFrom === undefined) return [];
  const ids = plan.tasks.map((task) => task.id);
  if (ids.includes(outputFrom)) return [];
  return [`outputFrom: the plan has no task "${outputFrom}" (its tasks: ${ids.join(', ')}): name the task whose output is the run's answer`];
}

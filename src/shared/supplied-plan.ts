// Checks on a request that zod's schema cannot make (it would lose .omit()): shared by the client,
// the ingest server and the workflow, so each refuses the same requests with the same words.
import type { AgentRequest } from './request';

/** Problems with how the request's `plan` and `outputFrom` fit together; none when they do. */
export function requestProblems(request: Pick<AgentRequest, 'plan' | 'outputFrom'>): string[] {
  const { plan, outputFrom } = request;
  if (!plan || outputFrom === undefined) return [];
  const ids = plan.tasks.map((task) => task.id);
  if (ids.includes(outputFrom)) return [];
  return [`outputFrom: the plan has no task "${outputFrom}" (its tasks: ${ids.join(', ')}): name the task whose output is the run's answer`];
}

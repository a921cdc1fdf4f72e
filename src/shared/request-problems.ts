// Checks on a request that zod's schema cannot make, made before a run starts by every door: the
// client (and so the CLI, the SDK and the ingest server) and scenario files. How the plan fits the
// request (zod would lose .omit()), and what depends on the clock (a deadline already past). The
// workflow checks the plan again through validatePlan, and the deadline from its first step.
import { jsonLimits } from './limits';
import type { AgentRequest } from './request';

/** Every problem with a parsed request that only the door can see; none when it may start. */
export function requestProblems(request: Pick<AgentRequest, 'plan' | 'outputFrom' | 'deadline'> & Partial<Pick<AgentRequest, 'agent' | 'tools'>>, now: number = Date.now()): string[] {
  return [...deadlineProblems(request.deadline, now), ...planProblems(request), ...agentProblems(request)];
}

/** A run that is one agent loop: it needs tools, and it is its own plan. */
function agentProblems(request: Partial<Pick<AgentRequest, 'agent' | 'tools' | 'plan' | 'outputFrom'>>): string[] {
  if (!request.agent) return [];
  const problems: string[] = [];
  if (!request.tools?.length) problems.push('agent: an agent run calls tools: list the ones it may call in tools (keel run --agent --tools a,b)');
  if (request.plan) problems.push('agent: an agent run is one loop, not a plan: give agent or plan, not both');
  if (request.outputFrom !== undefined) problems.push('outputFrom: an agent run\'s answer is its loop\'s: leave outputFrom out');
  return problems;
}

function deadlineProblems(deadline: string | undefined, now: number): string[] {
  if (deadline === undefined || Date.parse(deadline) > now) return [];
  return [`deadline: ${deadline} has already passed (it is ${new Date(now).toISOString()} now): give a time in the future, or leave deadline out`];
}

/**
 * What makes a value too deep or too large for a run to carry, checked before anything else reads
 * it (a value nested thousands deep breaks what walks it recursively, and Temporal refuses
 * payloads past its limit). Iterative, so it cannot overflow the stack itself.
 */
export function jsonShapeProblems(value: unknown, what = 'the request'): string[] {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: item, depth } = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > jsonLimits.maxDepth) {
      return [`${what} is nested more than ${jsonLimits.maxDepth} levels deep: flatten it (for large or deep data, pass a reference such as a URL or an id in input)`];
    }
    for (const child of Object.values(item)) stack.push({ value: child, depth: depth + 1 });
  }
  let bytes: number;
  try {
    bytes = new TextEncoder().encode(JSON.stringify(value) ?? "").length;
  } catch (error) {
    return [`${what} cannot be written as JSON: ${(error as Error).message}`];
  }
  if (bytes > jsonLimits.maxRequestBytes) {
    return [`${what} is ${bytes} bytes of JSON; the most a run takes is ${jsonLimits.maxRequestBytes} (${jsonLimits.maxRequestBytes / 1024 / 1024} MB): pass large data by reference (a URL, a path or an id in input)`];
  }
  return [];
}

/** Problems with how the request's `plan` and `outputFrom` (its own or its plan's) fit together; none when they do. */
function planProblems(request: Pick<AgentRequest, 'plan' | 'outputFrom'>): string[] {
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

// Pure plan checks and ordering. No Temporal imports: unit-tested directly and run in the workflow.
import { type Plan, type Task, stableJson } from '../shared/workflow';
import { checkPlan } from './contracts';

export interface PlanLimits {
  /** Tools the request allows the plan to use. */
  allowedTools: readonly string[];
  /** Tools the worker or the scenario can actually run. */
  knownTools: readonly string[];
  maxTasks: number;
  /** Budget left for executing the plan, after what planning already cost. */
  remainingUsd: number;
  /** Tasks completed under earlier plans: a replan's tasks may depend on them. */
  completedTaskIds?: readonly string[];
  /** Tool calls that already failed (stableJson of { tool, input }): a replan may not repeat them. */
  failedCalls?: readonly string[];
  /** The request's outputFrom: the plan must have this task, unless an earlier plan completed it. */
  answerTaskId?: string;
}

export type PlanValidation =
  | { ok: true; plan: Plan; order: Task[] }
  | {
      ok: false;
      problems: string[];
      /** Set when the estimate is the plan's only problem: the planner may be asked for a cheaper one. */
      overBudget?: { estimatedUsd: number; remainingUsd: number };
    };

/** Checks a plan against the schema and the run's limits; every problem is listed, naming the culprit. */
export function validatePlan(candidate: unknown, limits: PlanLimits): PlanValidation {
  const parsed = checkPlan(candidate);
  if (!parsed.success) return { ok: false, problems: parsed.issues.map((issue) => `plan schema: ${issue}`) };
  const plan = parsed.data;
  const problems: string[] = [];

  if (plan.tasks.length > limits.maxTasks) {
    problems.push(`the plan has ${plan.tasks.length} tasks, more than maxTasks (${limits.maxTasks})`);
  }

  const completed = new Set(limits.completedTaskIds ?? []);
  const seen = new Set<string>();
  for (const task of plan.tasks) {
    if (seen.has(task.id)) problems.push(`duplicate task id "${task.id}"`);
    if (completed.has(task.id)) problems.push(`task "${task.id}" already completed under an earlier plan: depend on it, or use a new id`);
    seen.add(task.id);
  }
  const failedCalls = new Set(limits.failedCalls ?? []);
  for (const task of plan.tasks) {
    if (task.kind === 'tool' && failedCalls.has(callKey(task.tool, task.input))) {
      problems.push(`task "${task.id}" repeats the failed call ${task.tool}(${stableJson(task.input ?? {})}) unchanged`);
    }
  }

  for (const task of plan.tasks) {
    for (const dependency of task.dependsOn) {
      if (!seen.has(dependency) && !completed.has(dependency)) problems.push(`task "${task.id}" depends on "${dependency}", which is not in the plan`);
    }
    const tools = task.kind === 'tool' ? [task.tool, task.fallbackTool] : task.kind === 'agent' ? (task.tools ?? []) : [];
    for (const tool of tools) {
      if (tool === undefined) continue;
      if (!limits.knownTools.includes(tool)) {
        problems.push(`task "${task.id}" uses unknown tool "${tool}" (known: ${listOrNone(limits.knownTools)})`);
      } else if (!limits.allowedTools.includes(tool)) {
        problems.push(`task "${task.id}" uses tool "${tool}", which the request does not allow (allowed: ${listOrNone(limits.allowedTools)})`);
      }
    }
  }

  if (limits.answerTaskId !== undefined && !seen.has(limits.answerTaskId) && !completed.has(limits.answerTaskId)) {
    problems.push(`the plan has no task "${limits.answerTaskId}", whose output is the run's answer (outputFrom): add it`);
  }
  if (plan.outputFrom !== undefined) {
    if (limits.answerTaskId !== undefined && plan.outputFrom !== limits.answerTaskId) {
      problems.push(`outputFrom names task "${plan.outputFrom}", but the run's answer is task "${limits.answerTaskId}" (the request's outputFrom): leave outputFrom out`);
    } else if (!seen.has(plan.outputFrom) && !completed.has(plan.outputFrom)) {
      problems.push(`outputFrom names task "${plan.outputFrom}", which the plan does not have: name one of its tasks, or leave outputFrom out to have the answer written from all results`);
    }
  }

  const cycle = findCycle(plan.tasks);
  if (cycle) problems.push(`dependency cycle: ${cycle.join(' → ')}`);

  const estimatedUsd = estimatePlanCost(plan);
  if (estimatedUsd > limits.remainingUsd) {
    const onlyProblem = problems.length === 0;
    problems.push(
      `estimated cost $${estimatedUsd.toFixed(4)} exceeds the budget left ($${limits.remainingUsd.toFixed(4)})`,
    );
    if (onlyProblem) return { ok: false, problems, overBudget: { estimatedUsd, remainingUsd: limits.remainingUsd } };
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, plan, order: topologicalOrder(plan.tasks, completed) };
}

/** Identifies a tool call by tool and input, so a replan cannot repeat one that failed. */
export function callKey(tool: string | undefined, input: Record<string, unknown> | undefined): string {
  return stableJson({ tool: tool ?? '', input: input ?? {} });
}

export function estimatePlanCost(plan: Plan): number {
  return plan.tasks.reduce((sum, task) => sum + (task.estimatedCostUsd ?? 0), 0);
}

/** The first dependency cycle found, as ids from the start of the cycle back to it; undefined if none. */
export function findCycle(tasks: readonly Task[]): string[] | undefined {
  // Duplicated ids are reported separately; here their dependencies are merged so no cycle hides.
  const dependenciesOf = new Map<string, string[]>();
  for (const task of tasks) dependenciesOf.set(task.id, [...(dependenciesOf.get(task.id) ?? []), ...task.dependsOn]);
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];

  const visit = (id: string): string[] | undefined => {
    const mark = state.get(id);
    if (mark === 'done') return undefined;
    if (mark === 'visiting') return [...path.slice(path.indexOf(id)), id];
    const dependencies = dependenciesOf.get(id);
    if (!dependencies) return undefined;
    state.set(id, 'visiting');
    path.push(id);
    for (const dependency of dependencies) {
      const cycle = visit(dependency);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };

  for (const task of tasks) {
    const cycle = visit(task.id);
    // Found by walking dependencies, so reverse it to read in execution order.
    if (cycle) return cycle.reverse();
  }
  return undefined;
}

/** Tasks ordered so each comes after its dependencies; ties keep the plan's order. Assumes no cycle. */
export function topologicalOrder(tasks: readonly Task[], alreadyDone: ReadonlySet<string> = new Set()): Task[] {
  const placed = new Set<string>(alreadyDone);
  const ordered: Task[] = [];
  let remaining = [...tasks];
  while (remaining.length > 0) {
    const ready = remaining.filter((task) => task.dependsOn.every((dependency) => placed.has(dependency)));
    if (ready.length === 0) throw new TypeError('topologicalOrder needs an acyclic plan: call validatePlan first');
    for (const task of ready) {
      placed.add(task.id);
      ordered.push(task);
    }
    remaining = remaining.filter((task) => !placed.has(task.id));
  }
  return ordered;
}

function listOrNone(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : 'none';
}

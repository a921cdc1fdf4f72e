// Ask the planner until it returns a plan that parses, feeding back why the last one did not.
import { patched } from '@temporalio/workflow';
import { type FailureKind, type Plan, type ReplanContext, ModelKey } from '../shared/workflow';
import { plannerActivities, workerFactsActivity } from './activities';
import { recordReplan } from './metrics';
import { callModel } from './model-call';
import { reservePlanning } from './reservation';
import { validatePlan, type PlanValidation } from './plan';
import type { ReplanTrigger, RunContext } from './run-context';

/** Planner outputs that are not JSON or not the schema are re-asked this many times in all. */
export const maxPlanAttempts = 3;

export type PlanningOutcome = PlanValidation | { ok: false; failed: string; kind: FailureKind };

/** Runs recorded before a replan the planner could not make went to a human ended `failed` there. */
export const escalateFailedReplanPatch = 'keel-escalate-failed-replan';

export async function makePlan(context: RunContext, reason: string, replan?: ReplanContext): Promise<PlanningOutcome> {
  const { request, record } = context;
  const planner = plannerActivities();
  let feedback: string | undefined;
  let askedForCheaper = false;
  const answerTaskId = request.outputFrom !== undefined && !record.tasks.completedTaskIds.includes(request.outputFrom) ? request.outputFrom : undefined;
  for (let attempt = 1; attempt <= maxPlanAttempts; attempt++) {
    const script = record.modelScript(ModelKey.plan);
    const call = await callModel(record, { scriptKey: script?.key, reservation: reservePlanning(record), attempts: planner.attempts }, (reservedUsd) =>
      planner.plan({
        goal: request.goal,
        input: request.input,
        allowedTools: request.tools,
        maxTasks: request.maxTasks,
        remainingUsd: record.ledger.remainingUsd,
        reservedUsd: reservedUsd,
        scriptedTools: record.scriptedTools,
        ...(feedback ? { feedback } : {}),
        ...(answerTaskId ? { answerTaskId } : {}),
        ...(replan ? { replan } : {}),
        ...(script ? { script } : {}),
      }),
    );
    if (!call.ok) {
      const { failure } = call;
      if (failure.kind !== 'malformed') return { ok: false, failed: `planning failed: ${failure.kind}: ${failure.message}`, kind: failure.kind };
      feedback = failure.message;
      continue;
    }
    const { output } = call;
    if (output.ceilings) record.ceilings = output.ceilings;
    if (output.approvalTools) record.approvalTools = output.approvalTools;
    const validation = validatePlan(output.plan, {
      allowedTools: request.tools,
      knownTools: output.knownTools,
      maxTasks: request.maxTasks,
      remainingUsd: record.ledger.remainingUsd,
      completedTaskIds: record.tasks.completedTaskIds,
      failedCalls: record.failedCalls,
      ...(answerTaskId ? { answerTaskId } : {}),
    });
    record.recordPlan(output.plan, reason, validation.ok ? { accepted: true, order: validation.order } : { accepted: false, problems: validation.problems });
    if (!validation.ok && validation.overBudget && !askedForCheaper) {
      // Once: the planner may know a cheaper way (smaller tiers, fewer model calls).
      askedForCheaper = true;
      attempt -= 1;
      const { estimatedUsd, remainingUsd } = validation.overBudget;
      feedback = `your plan's estimated cost $${estimatedUsd.toFixed(4)} exceeds the budget left ($${remainingUsd.toFixed(4)}): plan again within it, with fewer model calls, smaller tiers, or tools instead of models`;
      reason = `${reason} (asked for a cheaper plan)`;
      continue;
    }
    return validation;
  }
  return { ok: false, failed: `planning failed: the planner returned malformed output ${maxPlanAttempts} times; last: ${feedback}`, kind: 'malformed' };
}

/**
 * The plan the request brought, checked as a model's plan is (tools known and allowed, dependencies,
 * cycles, budget), with no planner call: the worker says what it can run. Rejected means rejected:
 * there is no planner to ask for another.
 */
export async function adoptSuppliedPlan(context: RunContext, supplied: Plan): Promise<PlanValidation> {
  const { request, record } = context;
  const facts = await workerFactsActivity().workerFacts({ scriptedTools: record.scriptedTools, scripted: record.isScripted });
  record.ceilings = facts.ceilings;
  if (facts.approvalTools) record.approvalTools = facts.approvalTools;
  const validation = validatePlan(supplied, {
    allowedTools: request.tools,
    knownTools: facts.knownTools,
    maxTasks: request.maxTasks,
    remainingUsd: record.ledger.remainingUsd,
    ...(request.outputFrom !== undefined ? { answerTaskId: request.outputFrom } : {}),
  });
  record.recordPlan(supplied, 'supplied by the request', validation.ok ? { accepted: true, order: validation.order } : { accepted: false, problems: validation.problems });
  return validation;
}

/**
 * Plans the remaining work after a failure or an operator's request. Bounded by maxReplans (a
 * rejected replan counts), then a human decides. Returns the new order, or undefined when the run
 * must stop (record.halt says why).
 */
export async function replanRemaining(trigger: ReplanTrigger, context: RunContext): Promise<PlanValidation & { ok: true } | undefined> {
  const { record } = context;
  let maxReplans = context.request.maxReplans;
  const tried: string[] = trigger.failed ? [`${trigger.failed.tool ?? trigger.failed.taskId}: ${trigger.failed.kind}: ${trigger.failed.message}`] : [];
  let current = trigger;
  for (;;) {
    if (record.replans >= maxReplans) {
      const { outcome } = await context.desk.escalate({
        escalation: { kind: 'replans_exhausted', replans: record.replans },
        reason: `${record.replans} replan(s) did not get the run through (limit ${maxReplans}); last: ${current.reason}`,
        attempted: tried,
      });
      if (outcome.type === 'halt') {
        record.stop({ status: outcome.status, reason: outcome.reason });
        return undefined;
      }
      // approve and replan (the two others offered) allow one more, replan with guidance.
      maxReplans = record.replans + 1;
      if (outcome.type === 'replan' && outcome.guidance) current = { ...current, guidance: outcome.guidance };
    }
    record.replans += 1;
    recordReplan();
    record.setPhase('planning');
    const planning = await replanOrAsk(context, current, {
      reason: current.reason,
      completed: record.tasks.currentEntries
        .filter((entry) => entry.status === 'completed')
        .map((entry) => ({ id: entry.task.id, description: entry.task.description, output: entry.output })),
      ...(current.failed ? { failed: current.failed } : {}),
      tried,
      ...(current.guidance ? { guidance: current.guidance } : {}),
    });
    if (planning.ok) return planning;
    if ('failed' in planning) {
      // Money that ran out while planning ends the run as every spent budget does.
      record.stop({ status: planning.kind === 'budget' ? 'budget_exhausted' : 'failed', reason: planning.failed });
      return undefined;
    }
    tried.push(`replan ${record.replans} was rejected: ${planning.problems.join('; ')}`);
    current = { ...current, reason: `${trigger.reason}; replan ${record.replans} was rejected (${planning.problems.join('; ')})` };
  }
}

/**
 * Asks the planner for a replan. When it cannot answer (no model provider on the worker, a provider
 * down past its retries, malformed output every time), the work done so far is not thrown away: a
 * human may have the planner asked again once what failed is fixed, or end the run. A budget that
 * ran out still ends it, as nothing can pay for another call.
 */
async function replanOrAsk(context: RunContext, trigger: ReplanTrigger, replan: ReplanContext): Promise<PlanningOutcome> {
  for (;;) {
    const planning = await makePlan(context, `replan: ${trigger.reason}`, replan);
    if (!('failed' in planning) || planning.kind === 'budget' || !patched(escalateFailedReplanPatch)) return planning;
    const { outcome } = await context.desk.escalate({
      escalation: { kind: 'planning_failed', failure: planning.failed },
      reason: `the run must replan (${trigger.reason}), but ${planning.failed}`,
      attempted: replan.tried,
    });
    if (outcome.type === 'halt') return { ...planning, failed: outcome.reason };
    // retry and replan (the two others offered) ask the planner again, replan with guidance.
    if (outcome.type === 'replan' && outcome.guidance) replan = { ...replan, guidance: outcome.guidance };
  }
}

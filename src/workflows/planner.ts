// Ask the planner until it returns a plan that parses, feeding back why the last one did not.
import { ModelKey, type AgentRequest } from '../shared';
import { plannerActivities } from './activities';
import { summarizeFailure } from './activity-failure';
import { validatePlan, type PlanValidation } from './plan';
import type { RunRecord } from './run-record';

/** Planner outputs that are not JSON or not the schema are re-asked this many times in all. */
export const maxPlanAttempts = 3;

export type PlanningOutcome = PlanValidation | { ok: false; failed: string };

export async function makePlan(request: AgentRequest, record: RunRecord): Promise<PlanningOutcome> {
  const planner = plannerActivities();
  let feedback: string | undefined;
  for (let attempt = 1; attempt <= maxPlanAttempts; attempt++) {
    const script = record.modelScript(ModelKey.plan);
    try {
      const output = await planner.plan({
        goal: request.goal,
        input: request.input,
        allowedTools: request.tools,
        maxTasks: request.maxTasks,
        budgetUsd: record.ledger.remainingUsd,
        scriptedTools: record.scriptedTools,
        ...(feedback ? { feedback } : {}),
        ...(script ? { script } : {}),
      });
      record.consume(script?.key, output.attempt);
      record.ledger.charge(output.call);
      const validation = validatePlan(output.plan, {
        allowedTools: request.tools,
        knownTools: output.knownTools,
        maxTasks: request.maxTasks,
        remainingBudgetUsd: record.ledger.remainingUsd,
      });
      if (validation.ok) record.addPlan(validation.plan, validation.order);
      else record.plans.push(output.plan);
      return validation;
    } catch (error) {
      const failure = summarizeFailure(error, planner.attempts);
      record.consume(script?.key, failure.attempts);
      record.ledger.charge(failure.details?.call);
      if (failure.kind !== 'malformed') return { ok: false, failed: `planning failed: ${failure.kind}: ${failure.message}` };
      feedback = failure.message;
    }
  }
  return { ok: false, failed: `planning failed: the planner returned malformed output ${maxPlanAttempts} times; last: ${feedback}` };
}

// plan → validate → schedule → synthesize. The workflow decides; activities only do.
import { setHandler, workflowInfo } from '@temporalio/workflow';
import { AgentRequestSchema, describeIssues, ModelKey, stateQuery, type AgentRequestInput, type RunResult } from '../shared';
import { plannerActivities } from './activities';
import { summarizeFailure } from './activity-failure';
import { makePlan } from './planner';
import { RunRecord } from './run-record';
import { executePlan } from './scheduler';

export async function agentRun(rawRequest: AgentRequestInput): Promise<RunResult> {
  const { workflowId, runId } = workflowInfo();
  const parsed = AgentRequestSchema.safeParse(rawRequest);
  const goal = typeof rawRequest?.goal === 'string' ? rawRequest.goal : '';
  const record = new RunRecord(workflowId, runId, goal, parsed.data?.budgetUsd ?? 0, parsed.data?.scenario);
  setHandler(stateQuery, () => record.state());
  if (!parsed.success) {
    return record.finish('rejected', { reason: `invalid request: ${describeIssues(parsed.error).join('; ')}` });
  }
  const request = parsed.data;

  record.setPhase('planning');
  const planning = await makePlan(request, record);
  if (!planning.ok) {
    if ('failed' in planning) return record.finish('failed', { reason: planning.failed });
    return record.finish('rejected', { reason: `plan rejected: ${planning.problems.join('; ')}` });
  }

  record.setPhase('running');
  await executePlan(planning.order, request, record, request.idempotencyKey ?? workflowId);
  if (record.halt) return record.finish(record.halt.status, { reason: record.halt.reason });

  record.setPhase('synthesizing');
  const { synthesize, attempts } = plannerActivities();
  const script = record.modelScript(ModelKey.synthesize);
  try {
    const synthesis = await synthesize({
      goal: request.goal,
      runInput: request.input,
      results: planning.order.map((task) => ({
        id: task.id,
        description: task.description,
        status: record.task(task.id).status,
        output: record.outputOf(task.id),
      })),
      remainingBudgetUsd: record.ledger.remainingUsd,
      ...(script ? { script } : {}),
    });
    record.consume(script?.key, synthesis.attempt);
    record.ledger.charge(synthesis.call);
    return record.finish('completed', { output: synthesis.output });
  } catch (error) {
    const failure = summarizeFailure(error, attempts);
    record.ledger.charge(failure.details?.call);
    const status = failure.kind === 'budget' ? 'budget_exhausted' : 'failed';
    return record.finish(status, { reason: `synthesis failed: ${failure.kind}: ${failure.message}` });
  }
}

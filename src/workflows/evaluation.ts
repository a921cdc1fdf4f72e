// After a task succeeds: deterministic checks first, then the evaluator (model or scenario).
import type { AgentRequest, Task, Verdict } from '../shared';
import { isBlobRef } from '../shared/blob-ref';
import { ModelKey } from '../shared/model-key';
import { plannerActivities } from './activities';
import { summarizeFailure } from './activity-failure';
import { promptSize, reserveModelCall } from './reservation';
import type { RunRecord } from './run-record';

export async function evaluateTask(task: Task, output: unknown, request: AgentRequest, record: RunRecord): Promise<Verdict> {
  const deterministic = checkOutput(task, output);
  if (deterministic) return deterministic;
  const key = ModelKey.evaluate(task.id);
  // Scripted runs are judged only where the scenario scripts a verdict; real runs where criteria exist.
  const wanted = record.isScripted ? record.hasModelKey(key) : task.successCriteria !== undefined;
  if (!wanted) return { verdict: 'pass' };
  const { evaluate, attempts } = plannerActivities();
  const script = record.modelScript(key);
  const reservation = await reserveModelCall(record, 'medium', promptSize(request.goal, task.description, task.successCriteria ?? '', output));
  try {
    const evaluation = await evaluate({
      goal: request.goal,
      task,
      output,
      remainingBudgetUsd: reservation.amountUsd,
      useCache: request.cache,
      ...(script ? { script } : {}),
    });
    record.consume(script?.key, evaluation.attempt);
    record.ledger.settle(reservation, evaluation.call);
    return evaluation.verdict;
  } catch (error) {
    const failure = summarizeFailure(error, attempts);
    record.consume(script?.key, failure.attempts);
    record.ledger.settle(reservation, failure.details?.call, failure.details?.breakers);
    // A broken judge does not fail good work: accept with a warning.
    return { verdict: 'soft', reason: `the evaluator failed (${failure.kind}: ${failure.message}); accepted unchecked` };
  }
}

/** Output present, and an object with the task's required fields when it names any. */
export function checkOutput(task: Task, output: unknown): Verdict | undefined {
  if (output === undefined || output === null || (typeof output === 'string' && output.trim() === '')) {
    return { verdict: 'hard', reason: `task ${task.id} produced no output` };
  }
  const required = task.requiredFields ?? [];
  if (required.length === 0) return undefined;
  if (isBlobRef(output)) {
    // Stored outside history: its field names came with the reference.
    const missing = required.filter((field) => !(output.fields ?? []).includes(field));
    return missing.length > 0 ? { verdict: 'hard', reason: `task ${task.id} output lacks required field(s): ${missing.join(', ')}` } : undefined;
  }
  if (typeof output !== 'object' || Array.isArray(output)) {
    return { verdict: 'hard', reason: `task ${task.id} must return an object with ${required.join(', ')}` };
  }
  const missing = required.filter((field) => !(field in output));
  return missing.length > 0 ? { verdict: 'hard', reason: `task ${task.id} output lacks required field(s): ${missing.join(', ')}` } : undefined;
}

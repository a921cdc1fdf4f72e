// After a task succeeds: deterministic checks first, then the evaluator (model or scenario).
import { type AgentRequest, type Task, type Verdict, isBlobRef, ModelKey } from '../shared/workflow';
import { plannerActivities } from './activities';
import { callModel } from './model-call';
import { promptSize, reserveModelCall } from './reservation';
import type { RunRecord } from './run-record';

export async function evaluateTask(task: Task, output: unknown, request: AgentRequest, record: RunRecord): Promise<Verdict> {
  const atOnce = verdictWithoutModel(task, output, record);
  if (atOnce) return atOnce;
  const key = ModelKey.evaluate(task.id);
  const { evaluate, attempts } = plannerActivities();
  const script = record.modelScript(key);
  const reservation = reserveModelCall(record, 'medium', promptSize(request.goal, task.description, task.successCriteria ?? '', output));
  const call = await callModel(record, { scriptKey: script?.key, reservation, attempts }, (reservedUsd) =>
    evaluate({ goal: request.goal, task, output, reservedUsd: reservedUsd, useCache: request.cache, ...(script ? { script } : {}) }),
  );
  if (call.ok) return call.output.verdict;
  // A broken judge does not fail good work: accept with a warning.
  return { verdict: 'soft', reason: `the evaluator failed (${call.failure.kind}: ${call.failure.message}); accepted unchecked` };
}

/** The verdict when no evaluator is asked: the deterministic checks fail, or nothing calls for a judge. Undefined when a model judges. */
export function verdictWithoutModel(task: Task, output: unknown, record: RunRecord): Verdict | undefined {
  const deterministic = checkOutput(task, output);
  if (deterministic) return deterministic;
  // Scripted runs are judged only where the scenario scripts a verdict; real runs where criteria exist.
  const wanted = record.isScripted ? record.hasModelKey(ModelKey.evaluate(task.id)) : task.successCriteria !== undefined;
  return wanted ? undefined : { verdict: 'pass' };
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

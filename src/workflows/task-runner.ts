// One task, start to end: run it, evaluate it, and on failure take its recovery path.
import { isCancellation, log } from '@temporalio/workflow';
import { type ConsensusReport, type FailureKind, type Task, ModelKey, effectiveTier } from '../shared/workflow';
import { taskActivity } from './activities';
import { evaluateTask } from './evaluation';
import { callKey } from './plan';
import { recordRetries, recordTaskFailure } from './metrics';
import { recoveryPath } from './recovery';
import type { Outcome } from './decisions';
import type { DecisionTaken } from './escalation';
import { runAgentLoop } from './agent-loop';
import { approveCall, needsApproval } from './tool-approval';
import { callModel } from './model-call';
import { promptSize, reserveModelCall } from './reservation';
import type { RunContext } from './run-context';

type Attempt = { ok: true; output: unknown; consensus?: ConsensusReport } | { ok: false; kind: FailureKind; message: string; cancelled: boolean };

/** Resolves true when dependents may run (completed, or waived by a human). */
export async function runTask(task: Task, context: RunContext): Promise<boolean> {
  const { record, desk } = context;
  const { tasks } = record;
  if (task.kind === 'human_review') return reviewByHuman(task, context);
  log.info('task started', { taskId: task.id, kind: task.kind, ...(task.tool ? { tool: task.tool } : {}) });
  const tried = { reasks: 0, usedFallback: false };
  let tool = task.tool;
  let feedback: string | undefined;
  const history: string[] = [];

  for (;;) {
    const attempt = await runOnce(task, tool, feedback, context);
    let kind: FailureKind;
    let message: string;
    if (attempt.ok && attempt.consensus && !attempt.consensus.agreed) {
      const settled = await settleDisagreement(task, attempt.consensus, context);
      if (settled.next === 'retry') continue;
      if (settled.next === 'end') return settled.satisfied;
    }
    if (attempt.ok) {
      const verdict = await evaluateTask(task, attempt.output, context.request, record);
      if (verdict.verdict === 'pass' || verdict.verdict === 'soft') {
        const warning = verdict.verdict === 'soft' ? (verdict.reason ?? 'the evaluator had reservations') : attempt.consensus?.agreed ? null : undefined;
        tasks.complete(task.id, attempt.output, warning);
        log.info('task completed', { taskId: task.id, attempts: tasks.get(task.id).attempts, costUsd: tasks.get(task.id).costUsd });
        return true;
      }
      if (verdict.verdict === 'critical') {
        tasks.fail(task.id, { kind: 'semantic', message: `evaluator: critical — ${verdict.reason ?? 'no reason given'}` });
        const { decision, outcome } = await desk.escalate({
          escalation: { kind: 'critical_verdict', task },
          reason: `the evaluator judged task ${task.id}'s result critical: ${verdict.reason ?? 'no reason given'}`,
          attempted: [...history, `${task.id} ran and returned a result the evaluator rejected`],
        });
        const next = applyOutcome(outcome, decision, task, context);
        if (next.next === 'accept') {
          tasks.complete(task.id, attempt.output, `accepted by ${decision.by} despite a critical verdict`);
          return true;
        }
        if (next.next === 'retry') continue;
        return next.satisfied;
      }
      kind = 'semantic';
      message = `evaluator: ${verdict.reason ?? 'the result does not meet the success criteria'}`;
    } else {
      if (attempt.cancelled) {
        tasks.cancel(task.id, { kind: 'cancelled', message: `cancelled: ${record.halt?.reason ?? 'the run stopped'}` });
        return false;
      }
      kind = attempt.kind;
      message = attempt.message;
    }

    tasks.fail(task.id, { kind, message });
    history.push(`${task.id}${tool ? ` (${tool})` : ''} failed after ${tasks.get(task.id).attempts} attempt(s): ${kind}: ${message}`);
    const path = recoveryPath(task, kind, tried);
    log.warn('task failed', { taskId: task.id, failureKind: kind, failure: message, attempts: tasks.get(task.id).attempts, next: path });
    switch (path) {
      case 'reask':
        tried.reasks += 1;
        feedback = message;
        continue;
      case 'fallback':
        tried.usedFallback = true;
        tool = task.fallbackTool;
        continue;
      case 'skip':
        tasks.skip(task.id, { kind, message: `skipped (non-critical): ${message}` });
        return false;
      case 'replan':
        if (task.kind === 'tool') record.failedCalls.push(callKey(tool, task.input));
        context.replan ??= {
          reason: `task ${task.id} failed: ${kind}: ${message}`,
          failed: { taskId: task.id, ...(tool ? { tool } : {}), ...(task.input ? { input: task.input } : {}), kind, message },
        };
        return false;
      case 'escalate': {
        const budget = kind === 'budget';
        const { decision, outcome } = await desk.escalate({
          escalation: budget
            ? { kind: 'budget_exhausted', task, beforeStart: false, budgetUsd: record.ledger.budgetUsd, raiseUsd: context.request.budgetUsd }
            : { kind: 'task_failed', task },
          reason: budget ? `the budget ran out at task ${task.id}: ${message}` : `critical task ${task.id} failed: ${kind}: ${message}`,
          attempted: history,
        });
        const next = applyOutcome(outcome, decision, task, context);
        if (next.next === 'end') return next.satisfied;
        // 'accept' is not offered here (approve waives or raises the budget): run the task again.
        continue;
      }
    }
  }
}

/** Where a task goes after a human's decision: accept what it has, run it again, or end it. */
type NextStep = { next: 'accept' } | { next: 'retry' } | { next: 'end'; satisfied: boolean };

/**
 * Applies a decision's outcome to a task. What accepting means is the caller's (a result, a
 * review, a model's answer); every other outcome is applied here, once for every escalation kind.
 */
function applyOutcome(outcome: Outcome, decision: DecisionTaken, task: Task, context: RunContext): NextStep {
  const { record } = context;
  const entry = record.tasks.get(task.id);
  switch (outcome.type) {
    case 'accept':
      return { next: 'accept' };
    case 'retry':
      return { next: 'retry' };
    case 'raise_budget':
      record.ledger.extend(outcome.amountUsd);
      return { next: 'retry' };
    case 'waive':
      record.tasks.waive(task.id, decision.by);
      return { next: 'end', satisfied: true };
    case 'skip':
      record.tasks.skip(task.id, { kind: entry.error?.kind ?? 'permanent', message: `skipped by ${decision.by}` });
      return { next: 'end', satisfied: false };
    case 'replan':
      context.replan ??= {
        reason: `${decision.by} asked for a replan at task ${task.id}`,
        ...(outcome.guidance ? { guidance: outcome.guidance } : {}),
        ...(entry.error ? { failed: { taskId: task.id, ...(task.tool ? { tool: task.tool } : {}), kind: entry.error.kind, message: entry.error.message } } : {}),
      };
      return { next: 'end', satisfied: false };
    case 'halt':
      record.stop({ status: outcome.status, reason: outcome.reason });
      return { next: 'end', satisfied: false };
    case 'refuse':
      // Only a tool_approval refuses, and the call's own caller takes it (approveCall).
      return { next: 'end', satisfied: false };
    default:
      return unhandled(outcome);
  }
}

function unhandled(outcome: never): never {
  throw new TypeError(`unhandled decision outcome: ${JSON.stringify(outcome)}`);
}

/**
 * The models of a consensus task did not agree. Non-critical: the first model's answer, with a
 * warning. Critical: a human decides.
 */
async function settleDisagreement(task: Task, consensus: ConsensusReport, context: RunContext): Promise<NextStep> {
  const { tasks } = context.record;
  const answers = consensus.answers.map((answer) => `${answer.provider}/${answer.model}: ${preview(answer.answer)}`);
  if (!task.critical) {
    tasks.warn(task.id, `no majority among ${consensus.answers.length} models (${answers.join('; ')}); took the first model's answer`);
    return { next: 'accept' };
  }
  tasks.fail(task.id, { kind: 'semantic', message: `no majority among ${consensus.answers.length} models` });
  const { decision, outcome } = await context.desk.escalate({
    escalation: { kind: 'no_consensus', task, firstAnswer: preview(consensus.answers[0]?.answer) },
    reason: `the ${consensus.answers.length} models asked for critical task ${task.id} did not agree`,
    attempted: answers,
  });
  const next = applyOutcome(outcome, decision, task, context);
  if (next.next === 'accept') tasks.warn(task.id, `no majority among the models; ${decision.by} accepted the first model's answer`);
  return next;
}

/** A human_review task: the run waits for a person to approve what came before. */
async function reviewByHuman(task: Task, context: RunContext): Promise<boolean> {
  const { tasks } = context.record;
  tasks.start(task.id);
  const { decision, outcome } = await context.desk.escalate({
    escalation: { kind: 'human_review', task },
    reason: `task ${task.id} needs a human review: ${task.description}`,
    attempted: tasks.currentEntries
      .filter((other) => task.dependsOn.includes(other.task.id))
      .map((other) => `${other.task.id} ${other.status}: ${preview(other.output)}`),
  });
  tasks.recordAttempts(task.id, { attempts: 1 });
  const next = applyOutcome(outcome, decision, task, context);
  if (next.next === 'accept') {
    tasks.complete(task.id, { approved: true, by: decision.by, ...(decision.note ? { note: decision.note } : {}) });
    return true;
  }
  // Not offered for a review: retry (there is nothing to run again).
  return next.next === 'end' && next.satisfied;
}

/** An agent task's attempt is its whole loop; its steps and tool calls are on the board. */
async function runAgentOnce(task: Task, context: RunContext): Promise<Attempt> {
  const { tasks } = context.record;
  // A loop continued from an earlier run is already running on the board it carried.
  if (context.resumeLoop?.taskId !== task.id) tasks.start(task.id);
  const end = await runAgentLoop(task, Object.fromEntries(task.dependsOn.map((id) => [id, tasks.outputOf(id)])), context);
  tasks.recordAttempts(task.id, { attempts: 1 });
  if (!end.ok && !end.cancelled) recordTaskFailure(end.kind, 0);
  return end;
}

function preview(output: unknown): string {
  const text = typeof output === 'string' ? output : JSON.stringify(output ?? null);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

async function runOnce(task: Task, tool: string | undefined, feedback: string | undefined, context: RunContext): Promise<Attempt> {
  const { record, request } = context;
  const { tasks } = record;
  if (task.kind === 'agent') return runAgentOnce(task, context);
  const runnable = { ...task, tool, ...(task.kind === 'llm' ? { tier: effectiveTier(task, request.tiers) } : {}) };
  if (runnable.tool === undefined) delete runnable.tool;
  const activity = taskActivity(runnable);
  const modelScript = task.kind === 'llm' ? record.modelScript(ModelKey.task(task.id)) : undefined;
  const toolScript = task.kind === 'tool' && tool ? record.toolScript(tool) : undefined;
  tasks.start(task.id);
  if (runnable.kind === 'tool' && runnable.tool !== undefined && needsApproval(context, runnable.tool)) {
    const approval = await approveCall(context, task, runnable.tool, runnable.input ?? {}, false);
    if (!approval.approved) return { ok: false, kind: 'semantic', message: approval.reason, cancelled: false };
    runnable.input = approval.input;
  }
  const dependencies = Object.fromEntries(task.dependsOn.map((id) => [id, tasks.outputOf(id)]));
  const call = await callModel(
    record,
    {
      scriptKey: modelScript?.key ?? toolScript?.key,
      // A tool task reserves nothing: it is charged what it reports.
      reservation:
        runnable.kind === 'llm'
          ? reserveModelCall(record, runnable.tier ?? 'medium', promptSize(request.goal, request.input, task.description, dependencies, feedback ?? ''), task.consensus ?? 1)
          : undefined,
      attempts: activity.attempts,
    },
    (reservedUsd) =>
      activity.runTask({
        goal: request.goal,
        runInput: request.input,
        task: runnable,
        dependencies,
        reservedUsd: reservedUsd,
        useCache: request.cache,
        idempotencyKey: `${context.idempotencyKey}:${task.id}`,
        ...(feedback ? { feedback } : {}),
        ...(modelScript ? { modelScript } : {}),
        ...(toolScript ? { toolScript } : {}),
      }),
  );
  if (call.ok) {
    const { output } = call;
    tasks.recordAttempts(task.id, { attempts: output.attempt, costUsd: output.call?.costUsd ?? 0, ...(output.call ? { model: output.call.model } : {}) });
    recordRetries(output.attempt - 1);
    return { ok: true, output: output.output, ...(output.consensus ? { consensus: output.consensus } : {}) };
  }
  const { failure, error } = call;
  const cancelled = isCancellation(error);
  tasks.recordAttempts(task.id, { attempts: failure.attempts, costUsd: failure.details?.call?.costUsd ?? 0 });
  if (!cancelled) recordTaskFailure(failure.kind, failure.attempts - 1);
  return { ok: false, kind: failure.kind, message: failure.message, cancelled };
}

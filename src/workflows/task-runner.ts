// One task, start to end: run it, evaluate it, and on failure take its recovery path.
import { isCancellation, log } from '@temporalio/workflow';
import type { ConsensusReport, FailureKind, Task } from '../shared';
import { ModelKey } from '../shared/model-key';
import { effectiveTier } from '../shared/task-kinds';
import { taskActivity } from './activities';
import { summarizeFailure } from './activity-failure';
import { evaluateTask } from './evaluation';
import { callKey } from './plan';
import { recordRetries, recordTaskFailure } from './metrics';
import { recoveryPath } from './recovery';
import { promptSize, reserveModelCall } from './reservation';
import type { RunContext } from './run-context';
import type { TaskEntry } from './run-record';

type Attempt = { ok: true; output: unknown; consensus?: ConsensusReport } | { ok: false; kind: FailureKind; message: string; cancelled: boolean };

/** Resolves true when dependents may run (completed, or waived by a human). */
export async function runTask(task: Task, context: RunContext): Promise<boolean> {
  const { record, desk } = context;
  const entry = record.task(task.id);
  if (task.kind === 'human_review') return reviewByHuman(task, entry, context);
  log.info('task started', { taskId: task.id, kind: task.kind, ...(task.tool ? { tool: task.tool } : {}) });
  const tried = { reasks: 0, usedFallback: false };
  let tool = task.tool;
  let feedback: string | undefined;
  const history: string[] = [];

  for (;;) {
    const attempt = await runOnce(task, tool, feedback, entry, context);
    let kind: FailureKind;
    let message: string;
    if (attempt.ok && attempt.consensus && !attempt.consensus.agreed) {
      const accepted = await settleDisagreement(task, attempt.consensus, entry, context);
      if (accepted === 'retry') continue;
      if (accepted === 'stop') return entry.status === 'skipped' && entry.waived === true;
    }
    if (attempt.ok) {
      const verdict = await evaluateTask(task, attempt.output, context.request, record);
      if (verdict.verdict === 'pass' || verdict.verdict === 'soft') {
        entry.status = 'completed';
        entry.output = attempt.output;
        delete entry.error;
        if (verdict.verdict === 'soft') entry.warning = verdict.reason ?? 'the evaluator had reservations';
        else if (attempt.consensus?.agreed) delete entry.warning;
        log.info('task completed', { taskId: task.id, attempts: entry.attempts, costUsd: entry.costUsd });
        return true;
      }
      if (verdict.verdict === 'critical') {
        entry.status = 'failed';
        entry.error = { kind: 'semantic', message: `evaluator: critical — ${verdict.reason ?? 'no reason given'}` };
        const decision = await desk.escalate({
          kind: 'critical_verdict',
          reason: `the evaluator judged task ${task.id}'s result critical: ${verdict.reason ?? 'no reason given'}`,
          taskId: task.id,
          attempted: [...history, `${task.id} ran and returned a result the evaluator rejected`],
          choices: [
            { decision: 'approve', effect: 'accept the result as it is and continue' },
            { decision: 'retry', effect: `run ${task.id} again` },
            { decision: 'replan', effect: 'plan the remaining work again (add guidance)' },
            ...(task.critical ? [] : [{ decision: 'skip' as const, effect: `skip ${task.id} and what depends on it` }]),
            { decision: 'reject', effect: 'end the run as rejected' },
          ],
        });
        if (decision.decision === 'approve') {
          entry.status = 'completed';
          entry.output = attempt.output;
          entry.warning = `accepted by ${decision.by} despite a critical verdict`;
          return true;
        }
        if (decision.decision === 'retry') continue;
        return applyDecision(decision, task, entry, context);
      }
      kind = 'semantic';
      message = `evaluator: ${verdict.reason ?? 'the result does not meet the success criteria'}`;
    } else {
      if (attempt.cancelled) {
        entry.status = 'cancelled';
        entry.error = { kind: 'cancelled', message: `cancelled: ${record.halt?.reason ?? 'the run stopped'}` };
        return false;
      }
      kind = attempt.kind;
      message = attempt.message;
    }

    entry.status = 'failed';
    entry.error = { kind, message };
    history.push(`${task.id}${tool ? ` (${tool})` : ''} failed after ${entry.attempts} attempt(s): ${kind}: ${message}`);
    const path = recoveryPath(task, kind, tried);
    log.warn('task failed', { taskId: task.id, failureKind: kind, failure: message, attempts: entry.attempts, next: path });
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
        entry.status = 'skipped';
        entry.error = { kind, message: `skipped (non-critical): ${message}` };
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
        const decision = await desk.escalate({
          kind: budget ? 'budget_exhausted' : 'task_failed',
          reason: budget ? `the budget ran out at task ${task.id}: ${message}` : `critical task ${task.id} failed: ${kind}: ${message}`,
          taskId: task.id,
          attempted: history,
          choices: [
            budget
              ? { decision: 'approve', effect: `raise the budget by $${context.request.budgetUsd} and run ${task.id} again` }
              : { decision: 'approve', effect: `go on without ${task.id}: its dependents run without its output` },
            { decision: 'retry', effect: `run ${task.id} again` },
            { decision: 'replan', effect: 'plan the remaining work again (add guidance)' },
            { decision: 'reject', effect: budget ? 'end the run as budget_exhausted' : 'end the run as rejected' },
          ],
        });
        if (decision.decision === 'retry') continue;
        if (decision.decision === 'approve' && budget) {
          record.ledger.extend(context.request.budgetUsd);
          continue;
        }
        if (decision.decision === 'reject' && budget) {
          record.stop({ status: 'budget_exhausted', reason: `budget exhausted at task ${task.id}; ${decision.by} rejected raising it` });
          return false;
        }
        return applyDecision(decision, task, entry, context);
      }
    }
  }
}

/**
 * The models of a consensus task did not agree. Non-critical: the first model's answer, with a
 * warning. Critical: a human decides.
 */
async function settleDisagreement(task: Task, consensus: ConsensusReport, entry: TaskEntry, context: RunContext): Promise<'accept' | 'retry' | 'stop'> {
  const answers = consensus.answers.map((answer) => `${answer.provider}/${answer.model}: ${preview(answer.answer)}`);
  if (!task.critical) {
    entry.warning = `no majority among ${consensus.answers.length} models (${answers.join('; ')}); took the first model's answer`;
    return 'accept';
  }
  entry.status = 'failed';
  entry.error = { kind: 'semantic', message: `no majority among ${consensus.answers.length} models` };
  const decision = await context.desk.escalate({
    kind: 'no_consensus',
    reason: `the ${consensus.answers.length} models asked for critical task ${task.id} did not agree`,
    taskId: task.id,
    attempted: answers,
    choices: [
      { decision: 'approve', effect: `accept the first model's answer (${preview(consensus.answers[0]?.answer)})` },
      { decision: 'retry', effect: `ask the models again` },
      { decision: 'replan', effect: 'plan the remaining work again (add guidance)' },
      { decision: 'reject', effect: 'end the run as rejected' },
    ],
  });
  if (decision.decision === 'approve') {
    entry.warning = `no majority among the models; ${decision.by} accepted the first model's answer`;
    return 'accept';
  }
  if (decision.decision === 'retry') return 'retry';
  applyDecision(decision, task, entry, context);
  return 'stop';
}

/** A human_review task: the run waits for a person to approve what came before. */
async function reviewByHuman(task: Task, entry: TaskEntry, context: RunContext): Promise<boolean> {
  entry.status = 'running';
  const decision = await context.desk.escalate({
    kind: 'human_review',
    reason: `task ${task.id} needs a human review: ${task.description}`,
    taskId: task.id,
    attempted: context.record.currentEntries
      .filter((other) => task.dependsOn.includes(other.task.id))
      .map((other) => `${other.task.id} ${other.status}: ${preview(other.output)}`),
    choices: [
      { decision: 'approve', effect: `approve ${task.id}; the run continues` },
      { decision: 'reject', effect: 'end the run as rejected' },
      { decision: 'replan', effect: 'plan the remaining work again (add guidance)' },
      ...(task.critical ? [] : [{ decision: 'skip' as const, effect: `skip ${task.id} and what depends on it` }]),
    ],
  });
  entry.attempts = 1;
  if (decision.decision === 'approve') {
    entry.status = 'completed';
    entry.output = { approved: true, by: decision.by, ...(decision.note ? { note: decision.note } : {}) };
    return true;
  }
  return applyDecision(decision, task, entry, context);
}

function preview(output: unknown): string {
  const text = typeof output === 'string' ? output : JSON.stringify(output ?? null);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** approve (waive), skip, replan and reject, shared by every escalation about a task. */
function applyDecision(
  decision: { decision: string; by: string; note?: string; guidance?: string },
  task: Task,
  entry: TaskEntry,
  context: RunContext,
): boolean {
  switch (decision.decision) {
    case 'approve':
      entry.status = 'skipped';
      entry.waived = true;
      entry.error = { kind: entry.error?.kind ?? 'permanent', message: `waived by ${decision.by}: ${entry.error?.message ?? ''}`.trim() };
      return true;
    case 'skip':
      entry.status = 'skipped';
      entry.error = { kind: entry.error?.kind ?? 'permanent', message: `skipped by ${decision.by}` };
      return false;
    case 'replan':
      context.replan ??= {
        reason: `${decision.by} asked for a replan at task ${task.id}`,
        ...(decision.guidance ? { guidance: decision.guidance } : {}),
        ...(entry.error ? { failed: { taskId: task.id, ...(task.tool ? { tool: task.tool } : {}), kind: entry.error.kind, message: entry.error.message } } : {}),
      };
      return false;
    default:
      context.record.stop({ status: 'rejected', reason: `${decision.by} rejected the run at task ${task.id}${decision.note ? `: ${decision.note}` : ''}` });
      return false;
  }
}

async function runOnce(task: Task, tool: string | undefined, feedback: string | undefined, entry: TaskEntry, context: RunContext): Promise<Attempt> {
  const { record, request } = context;
  const runnable = { ...task, tool, ...(task.kind === 'llm' ? { tier: effectiveTier(task, request.tiers) } : {}) };
  if (runnable.tool === undefined) delete runnable.tool;
  const activity = taskActivity(runnable);
  const modelScript = task.kind === 'llm' ? record.modelScript(ModelKey.task(task.id)) : undefined;
  const toolScript = task.kind === 'tool' && tool ? record.toolScript(tool) : undefined;
  const scriptKey = modelScript?.key ?? toolScript?.key;
  entry.status = 'running';
  const dependencies = Object.fromEntries(task.dependsOn.map((id) => [id, record.outputOf(id)]));
  const reservation =
    runnable.kind === 'llm'
      ? await reserveModelCall(record, runnable.tier ?? 'medium', promptSize(request.goal, request.input, task.description, dependencies, feedback ?? ''), task.consensus ?? 1)
      : undefined;
  try {
    const output = await activity.runTask({
      goal: request.goal,
      runInput: request.input,
      task: runnable,
      dependencies,
      remainingBudgetUsd: reservation?.amountUsd ?? 0,
      useCache: request.cache,
      idempotencyKey: `${context.idempotencyKey}:${task.id}`,
      ...(feedback ? { feedback } : {}),
      ...(modelScript ? { modelScript } : {}),
      ...(toolScript ? { toolScript } : {}),
    });
    record.consume(scriptKey, output.attempt);
    if (reservation) record.ledger.settle(reservation, output.call);
    else record.ledger.charge(output.call);
    entry.attempts += output.attempt;
    recordRetries(output.attempt - 1);
    entry.costUsd += output.call?.costUsd ?? 0;
    if (output.call) entry.model = output.call.model;
    return { ok: true, output: output.output, ...(output.consensus ? { consensus: output.consensus } : {}) };
  } catch (error) {
    const failure = summarizeFailure(error, activity.attempts);
    record.consume(scriptKey, failure.attempts);
    if (reservation) record.ledger.settle(reservation, failure.details?.call, failure.details?.breakers);
    else record.ledger.charge(failure.details?.call);
    entry.attempts += failure.attempts;
    if (!isCancellation(error)) recordTaskFailure(failure.kind, failure.attempts - 1);
    entry.costUsd += failure.details?.call?.costUsd ?? 0;
    return { ok: false, kind: failure.kind, message: failure.message, cancelled: isCancellation(error) };
  }
}

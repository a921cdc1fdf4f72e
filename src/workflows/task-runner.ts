// One task, start to end: run it, evaluate it, and on failure take its recovery path.
import { isCancellation, log } from '@temporalio/workflow';
import { type ConsensusReport, type FailureKind, type RunTaskOutput, type Task, type Verdict, ModelKey, effectiveTier } from '../shared/workflow';
import { taskActivity } from './activities';
import { evaluateTask, verdictWithoutModel } from './evaluation';
import { callKey } from './plan';
import { recordRetries, recordTaskFailure } from './metrics';
import { recoveryPath } from './recovery';
import type { Outcome } from './decisions';
import type { DecisionTaken } from './escalation';
import { runAgentLoop } from './agent-loop';
import { approveCall, needsApproval } from './tool-approval';
import { callModel, chainModelCall, type ModelCallOutcome } from './model-call';
import { promptSize, reserveModelCall, reserveModelCallNow } from './reservation';
import type { RunContext } from './run-context';

type Attempt = { ok: true; output: unknown; consensus?: ConsensusReport } | { ok: false; kind: FailureKind; message: string; cancelled: boolean };

/**
 * Runs a task to its end. Where its first attempt need not wait for anything (an approval, the
 * budget), that attempt is chained rather than awaited, and a result no model judges completes the
 * task there: 4 promises a tool task instead of about 16, and the SDK records a stack for
 * every promise a workflow makes. Everything else goes on in runTask. Runs recorded before patch
 * `keel-lean-run` took runTask from the start (awaiting-scheduler.ts).
 */
export function startTask(task: Task, context: RunContext): Promise<boolean> {
  return chainFirstAttempt(task, context, (attempt) => completedAtOnce(task, attempt, context) || runTask(task, context, attempt)) ?? runTask(task, context);
}

/**
 * Resolves true when dependents may run (completed, or waived by a human). `first`: the outcome
 * of an attempt startTask already made, which the task goes on from.
 */
export async function runTask(task: Task, context: RunContext, first?: Attempt): Promise<boolean> {
  const { record, desk } = context;
  const { tasks } = record;
  if (task.kind === 'human_review') return reviewByHuman(task, context);
  if (!first) announce(task);
  const tried = { reasks: 0, usedFallback: false };
  let tool = task.tool;
  let feedback: string | undefined;
  const history: string[] = [];
  let made = first;

  for (;;) {
    // With nothing made, the same await as before startTask existed (recorded histories replay on it).
    const attempt = made ?? (await runOnce(task, tool, feedback, context));
    made = undefined;
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
        complete(task, attempt, verdict, context);
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

function announce(task: Task): void {
  log.info('task started', { taskId: task.id, kind: task.kind, ...(task.tool ? { tool: task.tool } : {}) });
}

/** A result that passed (or passed with reservations): the task is complete. */
function complete(task: Task, attempt: Extract<Attempt, { ok: true }>, verdict: Verdict, context: RunContext): void {
  const { tasks } = context.record;
  const warning = verdict.verdict === 'soft' ? (verdict.reason ?? 'the evaluator had reservations') : attempt.consensus?.agreed ? null : undefined;
  tasks.complete(task.id, attempt.output, warning);
  log.info('task completed', { taskId: task.id, attempts: tasks.get(task.id).attempts, costUsd: tasks.get(task.id).costUsd });
}

/** True when a first attempt completed its task with no more to do: it succeeded, the models agreed, and no model judges it. */
function completedAtOnce(task: Task, attempt: Attempt, context: RunContext): boolean {
  if (!attempt.ok || (attempt.consensus && !attempt.consensus.agreed)) return false;
  const verdict = verdictWithoutModel(task, attempt.output, context.record);
  if (verdict?.verdict !== 'pass') return false;
  complete(task, attempt, verdict, context);
  return true;
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

/** What an attempt of a tool or model task sends, before the dependencies' outputs and the reservation. */
interface PreparedAttempt {
  runnable: Task;
  activity: ReturnType<typeof taskActivity>;
  modelScript: ReturnType<RunContext['record']['modelScript']>;
  toolScript: ReturnType<RunContext['record']['toolScript']>;
}

function prepareAttempt(task: Task, tool: string | undefined, context: RunContext): PreparedAttempt {
  const { record, request } = context;
  const runnable = { ...task, tool, ...(task.kind === 'llm' ? { tier: effectiveTier(task, request.tiers) } : {}) };
  if (runnable.tool === undefined) delete runnable.tool;
  return {
    runnable,
    activity: taskActivity(runnable),
    modelScript: task.kind === 'llm' ? record.modelScript(ModelKey.task(task.id)) : undefined,
    toolScript: task.kind === 'tool' && tool ? record.toolScript(tool) : undefined,
  };
}

async function runOnce(task: Task, tool: string | undefined, feedback: string | undefined, context: RunContext): Promise<Attempt> {
  const { record } = context;
  if (task.kind === 'agent') return runAgentOnce(task, context);
  const prepared = prepareAttempt(task, tool, context);
  const { runnable } = prepared;
  record.tasks.start(task.id);
  if (needsApprovalToRun(runnable, context)) {
    const approval = await approveCall(context, task, runnable.tool!, runnable.input ?? {}, false);
    if (!approval.approved) return { ok: false, kind: 'semantic', message: approval.reason, cancelled: false };
    runnable.input = approval.input;
  }
  const dependencies = dependencyOutputs(task, context);
  const call = await callModel(
    record,
    {
      ...callSpec(prepared),
      // A tool task reserves nothing: it is charged what it reports.
      reservation: runnable.kind === 'llm' ? reserveModelCall(record, runnable.tier ?? 'medium', attemptPromptSize(task, dependencies, feedback, context), task.consensus ?? 1) : undefined,
    },
    (reservedUsd) => prepared.activity.runTask(activityInput(prepared, dependencies, feedback, reservedUsd, context)),
  );
  return attemptFrom(task, call, context);
}

/**
 * A tool or model task's first attempt, chained, when nothing makes it wait: not an agent or a
 * review, no approval, and a reservation made now; `next` takes its outcome. Undefined (nothing
 * done) otherwise.
 */
function chainFirstAttempt(task: Task, context: RunContext, next: (attempt: Attempt) => boolean | Promise<boolean>): Promise<boolean> | undefined {
  if (task.kind !== 'tool' && task.kind !== 'llm') return undefined;
  const { record } = context;
  const prepared = prepareAttempt(task, task.tool, context);
  const { runnable } = prepared;
  if (needsApprovalToRun(runnable, context)) return undefined;
  const dependencies = dependencyOutputs(task, context);
  const reservation = runnable.kind === 'llm' ? reserveModelCallNow(record, runnable.tier ?? 'medium', attemptPromptSize(task, dependencies, undefined, context), task.consensus ?? 1) : undefined;
  if (runnable.kind === 'llm' && !reservation) return undefined;
  announce(task);
  record.tasks.start(task.id);
  return chainModelCall(
    record,
    { ...callSpec(prepared), reservation },
    (reservedUsd) => prepared.activity.runTask(activityInput(prepared, dependencies, undefined, reservedUsd, context)),
    (call) => next(attemptFrom(task, call, context)),
  );
}

/** A tool task whose tool a human approves before each call (tool-approval.ts). */
function needsApprovalToRun(runnable: Task, context: RunContext): boolean {
  return runnable.kind === 'tool' && runnable.tool !== undefined && needsApproval(context, runnable.tool);
}

function dependencyOutputs(task: Task, context: RunContext): Record<string, unknown> {
  return Object.fromEntries(task.dependsOn.map((id) => [id, context.record.tasks.outputOf(id)]));
}

function attemptPromptSize(task: Task, dependencies: Record<string, unknown>, feedback: string | undefined, context: RunContext): number {
  const { request } = context;
  return promptSize(request.goal, request.input, task.description, dependencies, feedback ?? '');
}

function callSpec(prepared: PreparedAttempt): { scriptKey: string | undefined; attempts: number } {
  return { scriptKey: prepared.modelScript?.key ?? prepared.toolScript?.key, attempts: prepared.activity.attempts };
}

function activityInput(prepared: PreparedAttempt, dependencies: Record<string, unknown>, feedback: string | undefined, reservedUsd: number, context: RunContext) {
  const { request } = context;
  const { runnable, modelScript, toolScript } = prepared;
  return {
    goal: request.goal,
    runInput: request.input,
    task: runnable,
    dependencies,
    reservedUsd,
    useCache: request.cache,
    idempotencyKey: `${context.idempotencyKey}:${runnable.id}`,
    ...(feedback ? { feedback } : {}),
    ...(modelScript ? { modelScript } : {}),
    ...(toolScript ? { toolScript } : {}),
  };
}

/** An attempt's outcome from its call's: its attempts and cost on the board, and its metrics. */
function attemptFrom(task: Task, call: ModelCallOutcome<RunTaskOutput>, context: RunContext): Attempt {
  const { tasks } = context.record;
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

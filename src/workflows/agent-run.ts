// plan → validate → schedule → evaluate → recover → synthesize. The workflow decides; activities only do.
import { allHandlersFinished, condition, continueAsNew, log, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { agentTaskId, type AgentRequest, type AgentRequestInput, type BlobRef, type Plan, type RunResult, type Task, isBlobRef, keelStatusKey, replanSignal, stateQuery, ModelKey } from '../shared/workflow';
import { plannerActivities } from './activities';
import { checkAgentRequest, checkReplanRequest } from './contracts';
import { EscalationDesk } from './escalation';
import { adoptSuppliedPlan, makePlan, replanRemaining } from './planner';
import { historyTooLong, leanRunPatch, type LoopCarry, type ReplanTrigger, type RunContext } from './run-context';
import { RunRecord, type Halt, type RunRecordSnapshot } from './run-record';
import { callModel } from './model-call';
import { promptSize, reserveModelCall } from './reservation';
import { executePlan } from './scheduler';

/** @param resume set when this run continues an earlier one of the same id (continue-as-new). */
export async function agentRun(rawRequest: AgentRequestInput, resume?: RunContinuation): Promise<RunResult> {
  const { workflowId, runId } = workflowInfo();
  const parsed = checkAgentRequest(rawRequest);
  const goal = typeof rawRequest?.goal === 'string' ? rawRequest.goal : '';
  const record = new RunRecord(workflowId, runId, goal, parsed.data?.budgetUsd ?? 0, parsed.data?.scenario);
  setHandler(stateQuery, () => record.state(), { description: 'Live progress: phase, plans, tasks, cost.' });
  record.stream.install();
  if (!resume) record.stream.emit({ type: 'run.started', goal });
  if (!parsed.success) {
    return record.finish('rejected', { reason: `invalid request: ${parsed.issues.join('; ')}` });
  }
  const request = parsed.data;
  const desk = new EscalationDesk(record, request.escalation, { ...(request.approvals ? { policy: request.approvals } : {}), ...(request.startedBy ? { startedBy: request.startedBy } : {}) });
  desk.install();
  const leanRun = patched(leanRunPatch); // at the start, before anything waits (run-context.ts)
  const context: RunContext = { request, record, desk, idempotencyKey: request.idempotencyKey ?? workflowId, leanRun };
  if (request.agent && !request.plan) {
    // A run that is one agent loop may continue as new between its steps.
    context.continueLoop = async (loop) => {
      await condition(allHandlersFinished);
      log.info('continuing the agent loop as new', { historyLength: workflowInfo().historyLength, step: loop.step, continuations: record.continuations + 1 });
      return continueAsNew<typeof agentRun>(rawRequest, { record: record.snapshot(), loop });
    };
  }
  setHandler(
    replanSignal,
    (payload: unknown) => {
      const replan = checkReplanRequest(payload);
      if (!replan.success) {
        record.ignoreSignal(payload, `invalid replan: ${replan.issues.join('; ')}`);
        return;
      }
      context.operatorReplan ??= { reason: `${replan.data.by ?? 'an operator'} asked for a replan`, guidance: replan.data.guidance };
    },
    { description: 'Force a replan of the remaining work: {"guidance": "...", "by"?: "..."}' },
  );

  // Runs recorded before this change looked at the deadline only once tasks were scheduled.
  const deadlineWatched = request.deadline !== undefined && patched(deadlineFromStartPatch);
  if (deadlineWatched && deadlinePassed(request)) {
    return record.finish('failed', { reason: `deadline ${request.deadline} passed before the run started: nothing was done` });
  }

  let order: Task[];
  if (resume && 'loop' in resume) {
    // A continuation of a run that is one agent loop: the earlier run's record, then the loop from its next step.
    record.restore(resume.record);
    context.resumeLoop = resume.loop;
    order = agentPlan(request).tasks;
  } else if (resume) {
    // A continuation: the earlier run's record, then the replan it stopped before.
    record.restore(resume.record);
    const replanned = await replanRemaining(resume.trigger, context);
    if (!replanned) return finishHalted(record);
    order = replanned.order;
  } else {
    let planning;
    const supplied = request.plan ?? (request.agent ? agentPlan(request) : undefined);
    if (supplied) {
      // A supplied plan has no planning phase: the client started the run as `running`, which stands.
      record.trustStartStatus(workflowInfo().typedSearchAttributes.get(keelStatusKey));
      planning = await adoptSuppliedPlan(context, supplied);
    } else {
      // The client started the run as `planning`, which stands; runs before leanRunPatch published it again.
      if (leanRun) record.trustStartStatus(workflowInfo().typedSearchAttributes.get(keelStatusKey));
      record.setPhase('planning');
      planning = await makePlan(context, 'initial plan');
    }
    if (!planning.ok) {
      if ('failed' in planning) return record.finish(planning.kind === 'budget' ? 'budget_exhausted' : 'failed', { reason: planning.failed });
      return record.finish('rejected', { reason: `plan rejected: ${planning.problems.join('; ')}` });
    }
    order = planning.order;
  }

  for (;;) {
    // A deadline that passed while planning: no task starts after it.
    if (deadlineWatched && deadlinePassed(request)) return record.finish('failed', { reason: `deadline ${request.deadline} passed` });
    record.setPhase('running');
    const end = await executePlan(order, context);
    if (record.halt) return record.finish(record.halt.status, { reason: record.halt.reason });
    if (end.kind === 'done') break;
    if (historyTooLong(request)) {
      // Between plans nothing is in flight: carry the record over and replan in a fresh history.
      await condition(allHandlersFinished);
      log.info('continuing as new', { historyLength: workflowInfo().historyLength, continuations: record.continuations + 1 });
      return continueAsNew<typeof agentRun>(rawRequest, { record: record.snapshot(), trigger: end.trigger });
    }
    const replanned = await replanRemaining(end.trigger, context);
    if (!replanned) return finishHalted(record);
    order = replanned.order;
  }

  const unfinished = record.tasks.currentEntries.filter((entry) => entry.task.critical && entry.status !== 'completed' && !entry.waived);
  if (unfinished.length > 0) {
    return record.finish('failed', { reason: `critical task(s) did not complete: ${unfinished.map((entry) => `${entry.task.id} (${entry.status})`).join(', ')}` });
  }
  // The request's outputFrom, else the current plan's; with neither, a model writes the answer from all results.
  const answerTask = request.outputFrom ?? record.answerTask;
  if (answerTask !== undefined) return answerFrom(answerTask, record);
  if (deadlineWatched && deadlinePassed(request)) return record.finish('failed', { reason: `deadline ${request.deadline} passed` });
  return synthesize(context);
}

/** A run that is one agent loop: one agent task over the request's tools, whose answer is the run's. */
function agentPlan(request: AgentRequest): Plan {
  return {
    tasks: [{ id: agentTaskId, kind: 'agent', description: request.goal, tools: request.tools, dependsOn: [], critical: true, ...(request.agent?.maxSteps ? { maxSteps: request.agent.maxSteps } : {}) }],
    outputFrom: agentTaskId,
  };
}

/** Runs recorded before the deadline was honoured from the run's first step. */
export const deadlineFromStartPatch = 'keel-deadline-from-start';

/** Workflow time, so the same on replay: the time of the workflow task that asks. */
function deadlinePassed(request: AgentRequest): boolean {
  return request.deadline !== undefined && Date.now() >= Date.parse(request.deadline);
}

/** The run's answer is one task's output, as it is: no synthesis call. */
function answerFrom(taskId: string, record: RunRecord): RunResult {
  // validatePlan holds every plan to its answer task, so it is here unless it failed or was skipped.
  const entry = record.tasks.find(taskId);
  if (entry?.status !== 'completed') {
    return record.finish('failed', { reason: `outputFrom names task ${taskId}, which did not complete: ${entry?.error?.message ?? entry?.status ?? 'not in the plan'}` });
  }
  // RunResult.output is text: a structured output is its JSON; one stored outside history stays a reference.
  return finishWithAnswer(record, typeof entry.output === 'string' || isBlobRef(entry.output) ? entry.output : JSON.stringify(entry.output));
}

/** completed, or partial when non-critical tasks were skipped on the way. */
function finishWithAnswer(record: RunRecord, output: string | BlobRef): RunResult {
  const skipped = record.tasks.skippedEntries;
  if (skipped.length === 0) return record.finish('completed', { output });
  const why = skipped.map((entry) => `${entry.task.id} (${entry.error?.message ?? 'skipped'})`).join('; ');
  return record.finish('partial', { output, reason: `skipped: ${why}` });
}

/** A continuation: the earlier run's record, and what it was about to replan or the agent loop it was in. */
export type RunContinuation = { record: RunRecordSnapshot; trigger: ReplanTrigger } | { record: RunRecordSnapshot; loop: LoopCarry };


/** Ends the run the way a step that stopped it recorded. */
function finishHalted(record: RunRecord): RunResult {
  const halt: Halt = record.halt ?? { status: 'failed', reason: 'replanning stopped' };
  return record.finish(halt.status, { reason: halt.reason });
}

async function synthesize(context: RunContext): Promise<RunResult> {
  const { request, record } = context;
  record.setPhase('synthesizing');
  const { synthesize: callSynthesize, attempts } = plannerActivities();
  const script = record.modelScript(ModelKey.synthesize);
  const results = record.tasks.currentEntries.map((entry) => ({ id: entry.task.id, description: entry.task.description, status: entry.status, output: entry.output }));
  const reservation = reserveModelCall(record, 'medium', promptSize(request.goal, request.input, results));
  const call = await callModel(record, { scriptKey: script?.key, reservation, attempts }, (reservedUsd) =>
    callSynthesize({ goal: request.goal, runInput: request.input, results, reservedUsd: reservedUsd, ...(script ? { script } : {}) }),
  );
  if (call.ok) return finishWithAnswer(record, call.output.output);
  const { failure } = call;
  return record.finish(failure.kind === 'budget' ? 'budget_exhausted' : 'failed', { reason: `synthesis failed: ${failure.kind}: ${failure.message}` });
}

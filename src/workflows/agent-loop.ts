// An agent task: a model calls tools step by step until it answers, within bounds the workflow
// holds (steps, tool calls, the budget through each step's reservation, the run's deadline). Each
// step is a model activity; the tool calls of a step run in parallel, each its own activity.
import { CancellationScope, isCancellation, patched } from '@temporalio/workflow';
import { agentLimits, effectiveTier, ModelKey, stableJson, type AgentMessage, type AgentToolCall, type FailureKind, type ScriptedToolEntry, type ScriptSlice, type SpanRef, type Task, type TranscriptHead } from '../shared/workflow';
import { agentStepActivity, agentToolActivity } from './activities';
import { callModel } from './model-call';
import { promptSize, reserveModelCall } from './reservation';
import { historyTooLong, type LoopCarry, type RunContext } from './run-context';
import { approveCall, needsApproval } from './tool-approval';

/** Runs recorded before a long agent loop could continue as new between its steps. */
export const loopContinuesAsNewPatch = 'keel-loop-continues-as-new';

/** How the loop ended: the model's answer, or a failure with its kind. */
export type AgentLoopEnd = { ok: true; output: unknown } | { ok: false; kind: FailureKind; message: string; cancelled: boolean };

/** The loop, within the task's `timeoutMs` when it has one: past it, what is in flight is cancelled and the loop ends `timeout`. */
export async function runAgentLoop(task: Task, dependencies: Record<string, unknown>, context: RunContext): Promise<AgentLoopEnd> {
  if (task.timeoutMs === undefined) return loop(task, dependencies, context);
  const scope = new CancellationScope({ cancellable: true, timeout: task.timeoutMs });
  const end = await scope.run(() => loop(task, dependencies, context)).catch((error: unknown): AgentLoopEnd => {
    if (!isCancellation(error)) throw error;
    return { ok: false, kind: 'timeout', message: 'cancelled', cancelled: true };
  });
  // Cancelled, and not by the run stopping (its deadline, a rejection): the task's own time ran out.
  if (!end.ok && end.cancelled && !context.record.halt) {
    return { ok: false, kind: 'timeout', message: `agent loop: the task's timeoutMs (${task.timeoutMs} ms) passed before an answer`, cancelled: false };
  }
  return end;
}

async function loop(task: Task, dependencies: Record<string, unknown>, context: RunContext): Promise<AgentLoopEnd> {
  const { record, request } = context;
  const maxSteps = Math.min(task.maxSteps ?? request.agent?.maxSteps ?? agentLimits.defaultMaxSteps, agentLimits.maxSteps);
  const maxToolCalls = request.agent?.maxToolCalls ?? agentLimits.maxToolCalls;
  const tier = effectiveTier(task, request.tiers);
  const stepTask = { ...task, tier };
  // A loop continued from an earlier run of this id starts where that run stopped.
  const carried = context.resumeLoop?.taskId === task.id ? context.resumeLoop : undefined;
  context.resumeLoop = undefined;
  let transcript: TranscriptHead | undefined = carried?.transcript;
  let newMessages: AgentMessage[] = carried?.newMessages ?? [];
  let toolCalls = carried?.toolCalls ?? 0;
  let lastCalls: string | undefined = carried?.lastCalls;
  let repeats = carried?.repeats ?? 0;
  const firstStep = carried?.step ?? 1;

  for (let step = firstStep; step <= maxSteps; step++) {
    // Between steps (one at least in this run), a long history continues as new, carrying the loop.
    if (step > firstStep && context.continueLoop && historyTooLong(request) && patched(loopContinuesAsNewPatch)) {
      const carry: LoopCarry = { taskId: task.id, step, newMessages, toolCalls, repeats, ...(transcript ? { transcript } : {}), ...(lastCalls !== undefined ? { lastCalls } : {}) };
      return context.continueLoop(carry);
    }
    record.stream.emit({ type: 'step', taskId: task.id, step });
    const script = record.modelScript(ModelKey.step(task.id));
    const activity = agentStepActivity(stepTask, step);
    const call = await callModel(
      record,
      {
        scriptKey: script?.key,
        reservation: reserveModelCall(record, tier, promptSize(request.goal, request.input, task.description, dependencies, newMessages)),
        attempts: activity.attempts,
      },
      (reservedUsd) =>
        activity.agentStep({
          goal: request.goal,
          runInput: request.input,
          task: stepTask,
          dependencies,
          step,
          ...(transcript ? { transcript } : {}),
          newMessages,
          reservedUsd,
          useCache: request.cache,
          ...(script ? { script } : {}),
        }),
    );
    if (!call.ok) {
      const { failure } = call;
      record.tasks.recordStep(task.id, { costUsd: failure.details?.call?.costUsd ?? 0 });
      if (failure.kind === 'malformed') {
        // Re-asked with the error at the next step, as a planner's malformed plan is.
        newMessages = [...newMessages, { role: 'note', step, text: `your answer at step ${step} could not be read: ${failure.message}` }];
        continue;
      }
      return { ok: false, kind: failure.kind, message: `step ${step}: ${failure.message}`, cancelled: isCancellation(call.error) };
    }
    const { output } = call;
    record.tasks.recordStep(task.id, { costUsd: output.call?.costUsd ?? 0, ...(output.call ? { model: output.call.model } : {}) });
    transcript = output.transcript;
    newMessages = [];
    if (output.toolCalls === undefined) return { ok: true, output: output.answer };

    toolCalls += output.toolCalls.length;
    if (toolCalls > maxToolCalls) return bound(`maxToolCalls (${maxToolCalls}) reached at step ${step} without an answer`);
    const calls = stableJson(output.toolCalls);
    repeats = calls === lastCalls ? repeats + 1 : 0;
    lastCalls = calls;
    if (repeats >= 2) return bound(`the model made the same tool call(s) three steps in a row (step ${step}: ${truncate(calls)})`);

    const results = await Promise.all(output.toolCalls.map((toolCall, index) => runToolCall(task, { step, index, span: output.span }, toolCall, offsetOf(output.toolCalls!, index), context)));
    // Recorded in the order the model asked, whichever finished first.
    results.forEach((result, index) => record.tasks.recordToolCall(task.id, { step, tool: output.toolCalls![index]!.tool, status: result.ok ? 'completed' : 'failed' }));
    const failed = results.find((result) => 'failure' in result);
    if (failed && 'failure' in failed) return failed.failure;
    newMessages = results.flatMap((result) => ('message' in result ? [result.message] : []));
    if (repeats === 1) {
      newMessages.push({ role: 'note', step, text: 'you made the same tool call(s) as at the step before, with the same input: do something else, or answer; a third time ends the task' });
    }
  }
  return bound(`maxSteps (${maxSteps}) reached without an answer`);
}

/** A bound that was hit: a semantic failure that names it, for the recovery table to take. */
function bound(message: string): AgentLoopEnd {
  return { ok: false, kind: 'semantic', message: `agent loop: ${message}`, cancelled: false };
}

/** Calls of the same scripted tool in one step read successive entries: how many came before this one. */
function offsetOf(calls: AgentToolCall[], index: number): number {
  return calls.slice(0, index).filter((call) => call.tool === calls[index]!.tool).length;
}

/** `ok`: the call ran and its tool answered; the message is what the model reads, a failure ends the loop. */
type ToolCallEnd = { ok: boolean; message: AgentMessage } | { ok: false; failure: AgentLoopEnd };

/**
 * One tool call. What the model can correct (a tool it may not call, input its schema refuses, a
 * semantic failure) comes back to it as a message; a failure past its retries ends the loop.
 */
async function runToolCall(task: Task, at: { step: number; index: number; span: SpanRef | undefined }, toolCall: AgentToolCall, offset: number, context: RunContext): Promise<ToolCallEnd> {
  const { record } = context;
  const { step, index, span } = at;
  const allowed = task.tools ?? [];
  if (!allowed.includes(toolCall.tool)) {
    return { ok: false, message: { role: 'tool', step, tool: toolCall.tool, input: toolCall.input, error: `there is no tool "${toolCall.tool}" here; you may call: ${allowed.join(', ')}` } };
  }
  let input = toolCall.input;
  if (needsApproval(context, toolCall.tool)) {
    const approval = await approveCall(context, task, toolCall.tool, input, true);
    if (!approval.approved) {
      return { ok: false, message: { role: 'tool', step, tool: toolCall.tool, input, error: approval.reason } };
    }
    input = approval.input;
  }
  const slice = record.toolScript(toolCall.tool);
  const toolScript: ScriptSlice<ScriptedToolEntry> | undefined = slice ? { ...slice, consumed: slice.consumed + offset } : undefined;
  const activity = agentToolActivity(task, toolCall.tool);
  const call = await callModel(record, { scriptKey: toolScript?.key, reservation: undefined, attempts: activity.attempts }, () =>
    activity.callTool({
      taskId: task.id,
      tool: toolCall.tool,
      input,
      idempotencyKey: `${context.idempotencyKey}:${task.id}:${step}:${index}`,
      ...(toolScript ? { toolScript } : {}),
      ...(span ? { parentSpan: span } : {}),
    }),
  );
  if (!call.ok) {
    const { failure } = call;
    return { ok: false, failure: { ok: false, kind: failure.kind, message: `step ${step}, tool ${toolCall.tool}: ${failure.message}`, cancelled: isCancellation(call.error) } };
  }
  const { output } = call;
  return { ok: output.ok, message: { role: 'tool', step, tool: toolCall.tool, input, ...(output.ok ? { result: output.result } : { error: output.error }) } };
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

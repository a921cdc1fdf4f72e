// Running a task: a model task (one model, or several for consensus) or a tool call, with its
// input resolved from the dependencies and a large output stored outside history.
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import {
  cacheablePurposes,
  describeIssues,
  isFailureEntry,
  KeelError,
  ModelKey,
  scriptedEntryAt,
  type ModelTier,
  type RunTaskInput,
  type RunTaskOutput,
  type ScriptedToolEntry,
  type ScriptSlice,
} from '../shared';
import { inToolSpan } from '../observability/telemetry';
import { defaultBlobThresholdBytes, offloadIfLarge, resolveRefs } from '../storage/blobs';
import { atBoundary } from './at-boundary';
import { withCurrentNames } from './earlier-inputs';
import type { ActivityDependencies } from './create-activities';
import { interpolate, UnresolvedReferenceError } from './interpolate';
import type { createModelCalls, Spent } from './model-calls';
import { taskPrompt, taskSystem } from './prompts';
import { parseIfJson, parseStructured } from './structured-output';

export function taskActivities(deps: ActivityDependencies, models: ReturnType<typeof createModelCalls>) {
  const { callModel, askForConsensus } = models;

  async function runTask(stored: RunTaskInput): Promise<RunTaskOutput> {
    return atBoundary(async (spent) => {
      const input = { ...withCurrentNames(stored), dependencies: await resolveRefs(stored.dependencies, deps.blobs) };
      const output = await runTaskResolved(input, spent);
      return { ...output, output: await offload(output.output) };
    });
  }

  /** Keeps history small: a large output goes to the blob store and a reference goes back. */
  async function offload(value: unknown): Promise<unknown> {
    return deps.blobs ? offloadIfLarge(value, deps.blobs, deps.blobThresholdBytes ?? defaultBlobThresholdBytes) : value;
  }

  async function runTaskResolved(input: RunTaskInput, spent: Spent): Promise<RunTaskOutput> {
    const attempt = Context.current().info.attempt;
    const { task } = input;
    if (task.kind === 'tool') return { output: await runTool(input, attempt), attempt };
    if (task.kind !== 'llm') throw new KeelError('permanent', `task ${task.id} is a ${task.kind} task, which the workflow handles itself, not an activity`);
    const tier: ModelTier = task.tier ?? 'medium'; // the workflow resolved overrides and purpose into it
    const required = task.requiredFields ?? [];
    // A task that names required fields gets structured output, so a bad answer is `malformed`.
    const schema = required.length > 0 ? z.object(Object.fromEntries(required.map((field) => [field, z.unknown()]))).passthrough() : undefined;
    const parse = (text: string) => (schema ? parseStructured(text, schema, `result of ${task.id}`) : parseIfJson(text));
    const request = {
      key: ModelKey.task(task.id),
      tier,
      system: taskSystem,
      prompt: taskPrompt(input),
      ...(schema ? { jsonSchema: z.toJSONSchema(schema, { unrepresentable: 'any' }) as Record<string, unknown> } : {}),
    };
    if (task.consensus && !input.modelScript) return { ...(await askForConsensus(request, task.consensus, input.reservedUsd, spent, parse)), attempt };
    const cacheable = input.useCache !== false && task.purpose !== undefined && cacheablePurposes.includes(task.purpose);
    const { text } = await callModel({ ...request, cacheable }, input.modelScript, input.reservedUsd, spent);
    return { output: parse(text), attempt, call: spent.call! };
  }

  async function runTool(input: RunTaskInput, attempt: number): Promise<unknown> {
    const { task } = input;
    const name = task.tool ?? '';
    let toolInput: unknown;
    try {
      toolInput = interpolate(task.input ?? {}, { input: input.runInput, ...input.dependencies });
    } catch (error) {
      if (error instanceof UnresolvedReferenceError) throw new KeelError('semantic', `task ${task.id}: ${error.message}`);
      throw error;
    }
    const toolScript = input.toolScript;
    if (toolScript) return inToolSpan(name, task.id, true, () => scriptedToolOutcome(toolScript, attempt, Context.current().cancellationSignal));
    const tool = deps.tools.get(name);
    if (!tool) throw new KeelError('permanent', `this worker has no tool "${name}" (it has: ${deps.tools.names.join(', ') || 'none'})`);
    const parsed = tool.input.safeParse(toolInput);
    if (!parsed.success) {
      throw new KeelError('semantic', `input for tool "${name}" is not valid: ${describeIssues(parsed.error).join('; ')}`);
    }
    return inToolSpan(name, task.id, false, () =>
      tool.run(parsed.data, {
        workflowId: Context.current().info.workflowExecution?.workflowId ?? '',
        taskId: task.id,
        idempotencyKey: input.idempotencyKey,
        signal: Context.current().cancellationSignal,
      }),
    );
  }

  return { runTask, offload };
}

export async function scriptedToolOutcome(script: ScriptSlice<ScriptedToolEntry>, attempt: number, signal: AbortSignal): Promise<unknown> {
  const entry = scriptedEntryAt(script.entries, script.consumed + attempt - 1);
  if (entry.delayMs) {
    const { setTimeout: delay } = await import('node:timers/promises');
    await delay(entry.delayMs, undefined, { signal });
  }
  if (isFailureEntry(entry)) {
    throw new KeelError(entry.fail, entry.message ?? `scripted ${entry.fail} failure of "${script.key}"`, {
      ...(entry.retryAfterMs === undefined ? {} : { retryAfterMs: entry.retryAfterMs }),
    });
  }
  return entry.result;
}

// Side effects only: model calls, tool calls. The workflow decides what happens with the results.
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import {
  cacheablePurposes,
  describeIssues,
  isFailureEntry,
  KeelError,
  ModelKey,
  PlanSchema,
  scriptedEntryAt,
  stableJson,
  VerdictSchema,
  type BlobRef,
  type BreakerSnapshot,
  type ConsensusReport,
  type EvaluateInput,
  type KeelActivities,
  type ModelCallReport,
  type ModelTier,
  type PlanInput,
  type ScriptedModelEntry,
  type ScriptedToolEntry,
  type ScriptSlice,
  type SynthesizeInput,
  type TierCeiling,
  type RunTaskInput,
  type WorkerFacts,
  type WorkerFactsInput,
  type RunTaskOutput,
} from '../shared';
import type { ModelRequest } from '../llm/model-client';
import { costOf, estimateTokens, outputTokenCap, priceOf, type ModelPrice } from '../llm/pricing';
import { defaultMaxOutputTokens, defaultTierModels, minimumOutputTokens, type ModelRouter } from '../llm/router';
import { ScriptedModel } from '../llm/scripted-model';
import type { ToolRegistry } from '../tools';
import { inModelSpan, inToolSpan } from '../observability/telemetry';
import { recordBreakers, recordCacheLookup } from './metrics';
import { defaultBlobThresholdBytes, offloadIfLarge, resolveRefs, type BlobStore } from '../storage/blobs';
import { toApplicationFailure } from './failure-boundary';
import { interpolate, UnresolvedReferenceError } from './interpolate';
import { evaluatePrompt, evaluateSystem, plannerPrompt, plannerSystem, synthesizePrompt, synthesizeSystem, taskPrompt, taskSystem } from './prompts';

export interface ActivityDependencies {
  tools: ToolRegistry;
  /** Real model providers behind routing, breakers and the cache; undefined when none is configured (scenario runs still work). */
  model?: ModelRouter;
  /** Prices for scripted runs (real runs use the router's). */
  prices?: Record<string, ModelPrice>;
  /** Put prompts and answers on model-call spans (off unless configured: they may hold personal data). */
  captureContent?: boolean;
  /** Outputs larger than blobThresholdBytes are stored here and passed by reference. */
  blobs?: BlobStore;
  blobThresholdBytes?: number;
}

type Spent = { call?: ModelCallReport; breakers?: BreakerSnapshot[] };

const planJsonSchema = z.toJSONSchema(PlanSchema, { io: 'input' }) as Record<string, unknown>;
const verdictJsonSchema = z.toJSONSchema(VerdictSchema) as Record<string, unknown>;

export function createActivities(deps: ActivityDependencies): KeelActivities {
  /** Calls the scripted or the real model, within what the workflow reserved for this call. */
  async function callModel(
    request: Omit<ModelRequest, 'maxOutputTokens' | 'signal' | 'model'> & { cacheable?: boolean },
    script: ScriptSlice<ScriptedModelEntry> | undefined,
    remainingBudgetUsd: number,
    spent: Spent,
  ): Promise<string> {
    const context = Context.current();
    const taskId = /^(?:task|evaluate):(.+)$/.exec(request.key)?.[1];
    const { cacheable = false, ...modelRequest } = request;
    if (script) return callScripted(modelRequest, new ScriptedModel(script, context.info.attempt), remainingBudgetUsd, spent, taskId);
    const router = deps.model;
    if (!router) {
      throw new KeelError(
        'permanent',
        'this worker has no model provider configured, so only scenario runs can execute: set OPENAI_API_KEY or ANTHROPIC_API_KEY on the worker, or run a scenario with `keel run --scenario FILE`',
      );
    }
    const chain = router.chain(request.tier);
    try {
      const response = await inModelSpan(
        { provider: chain[0]?.provider ?? router.name, requestModel: chain[0]?.model ?? '', tier: request.tier, operation: 'chat', ...(taskId ? { taskId } : {}), ...contentOf(request) },
        () => router.generate({ ...modelRequest, remainingBudgetUsd, cacheable, signal: context.cancellationSignal }),
        (answer) => ({
          responseModel: answer.model,
          inputTokens: answer.usage.inputTokens,
          outputTokens: answer.usage.outputTokens,
          costUsd: answer.costUsd,
          provider: answer.provider,
          text: answer.text,
          ...(answer.cache ? { cacheHit: answer.cache === 'hit' } : {}),
        }),
      );
      const usage = response.cache === 'hit' ? { inputTokens: 0, outputTokens: 0 } : response.usage;
      spent.call = { model: response.model, usage, costUsd: response.costUsd, provider: response.provider, ...(response.cache ? { cache: response.cache } : {}) };
      if (response.cache) recordCacheLookup(response.cache);
      return response.text;
    } finally {
      spent.breakers = router.breakers(request.tier);
      if (spent.call) spent.call.breakers = spent.breakers;
      recordBreakers(spent.breakers);
    }
  }

  async function callScripted(request: Omit<ModelRequest, 'maxOutputTokens' | 'signal' | 'model'>, client: ScriptedModel, remainingBudgetUsd: number, spent: Spent, taskId: string | undefined): Promise<string> {
    const model = defaultTierModels[request.tier];
    const cap = outputTokenCap(model, estimateTokens(request.system + request.prompt), remainingBudgetUsd, deps.prices);
    if (cap < minimumOutputTokens) {
      throw new KeelError('budget', `the budget left for this call ($${remainingBudgetUsd.toFixed(6)}) cannot pay for a ${model} call`);
    }
    const maxOutputTokens = Math.min(cap, defaultMaxOutputTokens);
    const response = await inModelSpan(
      { provider: client.name, requestModel: model, tier: request.tier, operation: 'chat', ...(taskId ? { taskId } : {}), ...contentOf(request) },
      () => client.generate({ ...request, model, maxOutputTokens, signal: Context.current().cancellationSignal }),
      (answer) => ({ responseModel: answer.model, inputTokens: answer.usage.inputTokens, outputTokens: answer.usage.outputTokens, costUsd: costOf(answer.model, answer.usage, deps.prices), text: answer.text }),
    );
    spent.call = { model: response.model, usage: response.usage, costUsd: costOf(response.model, response.usage, deps.prices) };
    return response.text;
  }

  function contentOf(request: { system: string; prompt: string }): { content?: { system: string; prompt: string } } {
    return deps.captureContent ? { content: { system: request.system, prompt: request.prompt } } : {};
  }

  /** What one call of each tier can cost at most on this worker (scripted runs: the default models). */
  function tierCeilings(scripted: boolean): Record<ModelTier, TierCeiling> {
    const ceiling = (tier: ModelTier): TierCeiling => {
      if (!scripted && deps.model) return deps.model.ceiling(tier);
      const price = priceOf(defaultTierModels[tier], deps.prices);
      return { ...price, maxOutputTokens: defaultMaxOutputTokens };
    };
    return { small: ceiling('small'), medium: ceiling('medium'), large: ceiling('large') };
  }

  /** The same question to several models of the tier at once; the normalized majority wins. */
  async function askForConsensus(
    request: Omit<ModelRequest, 'maxOutputTokens' | 'signal' | 'model'>,
    count: number,
    budgetUsd: number,
    spent: Spent,
    parse: (text: string) => unknown,
  ): Promise<{ output: unknown; call: ModelCallReport; consensus: ConsensusReport }> {
    const router = deps.model;
    if (!router) throw new KeelError('permanent', 'consensus needs real model providers: set OPENAI_API_KEY or ANTHROPIC_API_KEY on the worker');
    let responses;
    try {
      responses = await router.generateEach({ ...request, remainingBudgetUsd: budgetUsd, cacheable: false, signal: Context.current().cancellationSignal }, count);
    } finally {
      spent.breakers = router.breakers(request.tier);
      recordBreakers(spent.breakers);
    }
    const answers = responses.map((response) => ({ provider: response.provider, model: response.model, answer: parse(response.text) }));
    const { winner, votes } = majority(answers.map((each) => each.answer));
    const chosen = answers[winner]!;
    spent.call = {
      model: chosen.model,
      provider: chosen.provider,
      usage: {
        inputTokens: responses.reduce((sum, response) => sum + response.usage.inputTokens, 0),
        outputTokens: responses.reduce((sum, response) => sum + response.usage.outputTokens, 0),
      },
      costUsd: responses.reduce((sum, response) => sum + response.costUsd, 0),
      breakers: spent.breakers,
    };
    return { output: chosen.answer, call: spent.call, consensus: { agreed: votes > count / 2, votes, answers } };
  }

  /** Runs an activity body and turns whatever it throws into a classified ApplicationFailure. */
  async function atBoundary<T>(body: (spent: Spent) => Promise<T>): Promise<T> {
    const spent: Spent = {};
    const stopBeating = heartbeatWhileRunning(Context.current());
    try {
      return await body(spent);
    } catch (error) {
      throw toApplicationFailure(error, Context.current().info.attempt, spent.call, spent.breakers);
    } finally {
      stopBeating();
    }
  }

  /** Tools a run can use: the worker's, and those its scenario scripts. */
  const knownToolsWith = (scriptedTools: string[]): string[] => [...new Set([...deps.tools.names, ...scriptedTools])];

  async function plan(input: PlanInput) {
    return atBoundary(async (spent) => {
      const knownTools = knownToolsWith(input.scriptedTools);
      const usable = input.allowedTools.filter((name) => knownTools.includes(name));
      const text = await callModel(
        { key: ModelKey.plan, tier: 'large', system: plannerSystem, prompt: plannerPrompt(input, deps.tools.describe(usable)), jsonSchema: planJsonSchema },
        input.script,
        input.callBudgetUsd,
        spent,
      );
      const plan = parseStructured(text, PlanSchema, 'plan');
      return { plan, knownTools, call: spent.call!, attempt: Context.current().info.attempt, ceilings: tierCeilings(input.script !== undefined) };
    });
  }

  async function workerFacts(input: WorkerFactsInput): Promise<WorkerFacts> {
    return { knownTools: knownToolsWith(input.scriptedTools), ceilings: tierCeilings(input.scripted) };
  }

  async function runTask(stored: RunTaskInput): Promise<RunTaskOutput> {
    return atBoundary(async (spent) => {
      const input = { ...stored, dependencies: await resolveRefs(stored.dependencies, deps.blobs) };
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
    if (task.consensus && !input.modelScript) return { ...(await askForConsensus(request, task.consensus, input.remainingBudgetUsd, spent, parse)), attempt };
    const cacheable = input.useCache !== false && task.purpose !== undefined && cacheablePurposes.includes(task.purpose);
    const text = await callModel({ ...request, cacheable }, input.modelScript, input.remainingBudgetUsd, spent);
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

  async function synthesize(stored: SynthesizeInput) {
    return atBoundary(async (spent) => {
      const input = { ...stored, results: await resolveRefs(stored.results, deps.blobs) };
      const text = await callModel(
        { key: ModelKey.synthesize, tier: 'medium', system: synthesizeSystem, prompt: synthesizePrompt(input) },
        input.script,
        input.remainingBudgetUsd,
        spent,
      );
      return { output: (await offload(text)) as string | BlobRef, call: spent.call!, attempt: Context.current().info.attempt };
    });
  }

  async function evaluate(stored: EvaluateInput) {
    return atBoundary(async (spent) => {
      const input = { ...stored, output: await resolveRefs(stored.output, deps.blobs) };
      const text = await callModel(
        { key: ModelKey.evaluate(input.task.id), tier: 'medium', system: evaluateSystem, prompt: evaluatePrompt(input), jsonSchema: verdictJsonSchema, cacheable: input.useCache !== false },
        input.script,
        input.remainingBudgetUsd,
        spent,
      );
      return { verdict: parseStructured(text, VerdictSchema, 'verdict'), call: spent.call!, attempt: Context.current().info.attempt };
    });
  }

  async function signalSender(input: { workflowId: string; signalName: string }): Promise<string | undefined> {
    const history = await Context.current().client.workflow.getHandle(input.workflowId).fetchHistory();
    const signals = (history.events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === input.signalName);
    return signals.at(-1)?.workflowExecutionSignaledEventAttributes?.identity ?? undefined;
  }

  return { plan, runTask, synthesize, evaluate, signalSender, workerFacts };
}

/**
 * Heartbeats while a call runs, so that when a worker dies Temporal retries its activities after
 * the heartbeat timeout rather than the whole start-to-close timeout. Cheap: a call shorter than a
 * third of the timeout sends none, and the SDK throttles the rest.
 */
export function heartbeatWhileRunning(context: Context): () => void {
  const timeoutMs = context.info.heartbeatTimeoutMs;
  if (!timeoutMs) return () => undefined;
  const timer = setInterval(() => context.heartbeat(), Math.max(250, Math.floor(timeoutMs / 3)));
  return () => clearInterval(timer);
}

async function scriptedToolOutcome(script: ScriptSlice<ScriptedToolEntry>, attempt: number, signal: AbortSignal): Promise<unknown> {
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

/** Model output that must match a schema: anything else is `malformed`, with the reason to feed back. */
export function parseStructured<T>(text: string, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(stripCodeFence(text));
  } catch (error) {
    throw new KeelError('malformed', `the ${what} is not valid JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new KeelError('malformed', `the ${what} does not match the schema: ${describeIssues(parsed.error).join('; ')}`);
  return parsed.data;
}

function stripCodeFence(text: string): string {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(text);
  return fenced?.[1] ?? text;
}

function parseIfJson(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return text;
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}

/** The index of the answer most others agree with (after normalizing), and its votes; ties go to the first model. */
export function majority(answers: unknown[]): { winner: number; votes: number } {
  const keys = answers.map(normalizeAnswer);
  let winner = 0;
  let votes = 0;
  keys.forEach((key, index) => {
    const count = keys.filter((other) => other === key).length;
    if (count > votes) {
      winner = index;
      votes = count;
    }
  });
  return { winner, votes };
}

/** Case, spacing, surrounding quotes and a final period do not make answers differ; key order does not either. */
export function normalizeAnswer(answer: unknown): string {
  const normalize = (value: unknown): unknown => {
    if (typeof value === 'string') return value.trim().replace(/^["'`]+|["'`]+$/g, '').replace(/[.!]+$/, '').replace(/\s+/g, ' ').toLowerCase();
    if (Array.isArray(value)) return value.map(normalize);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, normalize(item)]));
    return value;
  };
  return stableJson(normalize(answer));
}

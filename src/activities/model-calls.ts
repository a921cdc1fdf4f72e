// One model call as an activity makes it: the scenario's scripted model or the real providers
// behind routing, breakers and the cache, within what the workflow reserved; and consensus.
import { Context } from '@temporalio/activity';
import { KeelError, type SpanRef, type BreakerSnapshot, type ConsensusReport, type ModelCallReport, type ModelTier, type ScriptedModelEntry, type ScriptSlice, type TierCeiling } from '../shared';
import type { ModelRequest, ModelResponse } from '../llm/model-client';
import { costOf, estimateTokens, outputTokenCap, priceOf } from '../llm/pricing';
import { defaultMaxOutputTokens, defaultTierModels, minimumOutputTokens } from '../llm/router';
import { ScriptedModel } from '../llm/scripted-model';
import { inModelSpan, spanRef } from '../observability/telemetry';
import type { ActivityDependencies } from './create-activities';
import { recordBreakers, recordCacheLookup } from './metrics';
import { majority } from './structured-output';
import { DeltaPublisher } from './deltas';

/** What a call spent, kept as it goes so a failure can still report it. */
export type Spent = { call?: ModelCallReport; breakers?: BreakerSnapshot[]; span?: SpanRef };

export type ModelCallRequest = Omit<ModelRequest, 'maxOutputTokens' | 'signal' | 'model' | 'onDelta'>;
/** What the model said: its text, and its tool calls when it was offered tools and called some. */
export type ModelAnswer = Pick<ModelResponse, 'text' | 'toolCalls'>;

export function createModelCalls(deps: ActivityDependencies) {
  /** Calls the scripted or the real model, within what the workflow reserved for this call. */
  async function callModel(
    request: ModelCallRequest & { cacheable?: boolean },
    script: ScriptSlice<ScriptedModelEntry> | undefined,
    reservedUsd: number,
    spent: Spent,
  ): Promise<ModelAnswer> {
    const deltas = DeltaPublisher.forActivity(request.key, /^(?:task|evaluate|step):(.+)$/.exec(request.key)?.[1], deps.streamBatchMs);
    deltas.begin();
    try {
      const answer = await callEither(request, script, reservedUsd, spent, deltas.push);
      await deltas.close();
      return answer;
    } catch (error) {
      // What streamed, and how the attempt failed, reach the run before the activity ends.
      await deltas.close({ failure: error instanceof KeelError ? `${error.kind}: ${error.message}` : (error as Error).message });
      throw error;
    }
  }

  async function callEither(
    request: ModelCallRequest & { cacheable?: boolean },
    script: ScriptSlice<ScriptedModelEntry> | undefined,
    reservedUsd: number,
    spent: Spent,
    onDelta: NonNullable<ModelRequest['onDelta']>,
  ): Promise<ModelAnswer> {
    const context = Context.current();
    const taskId = /^(?:task|evaluate|step):(.+)$/.exec(request.key)?.[1];
    const { cacheable = false, ...modelRequest } = request;
    if (script) return callScripted({ ...modelRequest, onDelta }, new ScriptedModel(script, context.info.attempt), reservedUsd, spent, taskId);
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
        (span) => {
          spent.span = spanRef(span);
          return router.generate({ ...modelRequest, reservedUsd, cacheable, signal: context.cancellationSignal, onDelta });
        },
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
      return { text: response.text, ...(response.toolCalls ? { toolCalls: response.toolCalls } : {}) };
    } finally {
      spent.breakers = router.breakers(request.tier);
      if (spent.call) spent.call.breakers = spent.breakers;
      recordBreakers(spent.breakers);
    }
  }

  async function callScripted(request: ModelCallRequest & Pick<ModelRequest, 'onDelta'>, client: ScriptedModel, reservedUsd: number, spent: Spent, taskId: string | undefined): Promise<ModelAnswer> {
    const model = defaultTierModels[request.tier];
    const cap = outputTokenCap(model, estimateTokens(request.system + request.prompt), reservedUsd, deps.prices);
    if (cap < minimumOutputTokens) {
      throw new KeelError('budget', `the budget left for this call ($${reservedUsd.toFixed(6)}) cannot pay for a ${model} call`);
    }
    const maxOutputTokens = Math.min(cap, defaultMaxOutputTokens);
    const response = await inModelSpan(
      { provider: client.name, requestModel: model, tier: request.tier, operation: 'chat', ...(taskId ? { taskId } : {}), ...contentOf(request) },
      (span) => {
        spent.span = spanRef(span);
        return client.generate({ ...request, model, maxOutputTokens, signal: Context.current().cancellationSignal });
      },
      (answer) => ({ responseModel: answer.model, inputTokens: answer.usage.inputTokens, outputTokens: answer.usage.outputTokens, costUsd: costOf(answer.model, answer.usage, deps.prices), text: answer.text }),
    );
    spent.call = { model: response.model, usage: response.usage, costUsd: costOf(response.model, response.usage, deps.prices) };
    return { text: response.text };
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
      responses = await router.generateEach({ ...request, reservedUsd: budgetUsd, cacheable: false, signal: Context.current().cancellationSignal }, count);
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

  return { callModel, tierCeilings, askForConsensus };
}

// The run's answer, written by a model from every task's result.
import { Context } from '@temporalio/activity';
import { ModelKey, type BlobRef, type SynthesizeInput } from '../shared';
import { resolveRefs } from '../storage/blobs';
import { atBoundary } from './at-boundary';
import { withCurrentNames } from './earlier-inputs';
import type { ActivityDependencies } from './create-activities';
import type { createModelCalls } from './model-calls';
import { synthesizePrompt, synthesizeSystem } from './prompts';

export function synthesisActivities(deps: ActivityDependencies, models: ReturnType<typeof createModelCalls>, offload: (value: unknown) => Promise<unknown>) {
  const { callModel } = models;

  async function synthesize(stored: SynthesizeInput) {
    return atBoundary(async (spent) => {
      const input = { ...withCurrentNames(stored), results: await resolveRefs(stored.results, deps.blobs) };
      const { text } = await callModel(
        { key: ModelKey.synthesize, tier: 'medium', system: synthesizeSystem, prompt: synthesizePrompt(input) },
        input.script,
        input.reservedUsd,
        spent,
      );
      return { output: (await offload(text)) as string | BlobRef, call: spent.call!, attempt: Context.current().info.attempt };
    });
  }

  return { synthesize };
}

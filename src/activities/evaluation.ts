// Judging a task's result against its success criteria: a model's verdict.
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { ModelKey, VerdictSchema, type EvaluateInput } from '../shared';
import { resolveRefs } from '../storage/blobs';
import { atBoundary } from './at-boundary';
import { withCurrentNames } from './earlier-inputs';
import type { ActivityDependencies } from './create-activities';
import type { createModelCalls } from './model-calls';
import { evaluatePrompt, evaluateSystem } from './prompts';
import { parseStructured } from './structured-output';

const verdictJsonSchema = z.toJSONSchema(VerdictSchema) as Record<string, unknown>;

export function evaluationActivities(deps: ActivityDependencies, models: ReturnType<typeof createModelCalls>) {
  const { callModel } = models;

  async function evaluate(stored: EvaluateInput) {
    return atBoundary(async (spent) => {
      const input = { ...withCurrentNames(stored), output: await resolveRefs(stored.output, deps.blobs) };
      const { text } = await callModel(
        { key: ModelKey.evaluate(input.task.id), tier: 'medium', system: evaluateSystem, prompt: evaluatePrompt(input), jsonSchema: verdictJsonSchema, cacheable: input.useCache !== false },
        input.script,
        input.reservedUsd,
        spent,
      );
      return { verdict: parseStructured(text, VerdictSchema, 'verdict'), call: spent.call!, attempt: Context.current().info.attempt };
    });
  }

  return { evaluate };
}

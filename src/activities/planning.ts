// Planning: the planner's call, and what the worker can run (its tools, and what a call of each
// tier can cost at most) for a plan the request brought.
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { ModelKey, PlanSchema, type PlanInput, type WorkerFacts, type WorkerFactsInput } from '../shared';
import { atBoundary } from './at-boundary';
import { withCurrentNames } from './earlier-inputs';
import type { ActivityDependencies } from './create-activities';
import type { createModelCalls } from './model-calls';
import { plannerPrompt, plannerSystem } from './prompts';
import { parseStructured } from './structured-output';

const planJsonSchema = z.toJSONSchema(PlanSchema, { io: 'input' }) as Record<string, unknown>;

export function planningActivities(deps: ActivityDependencies, models: ReturnType<typeof createModelCalls>) {
  const { callModel, tierCeilings } = models;

  /** Tools a run can use: the worker's, and those its scenario scripts. */
  const knownToolsWith = (scriptedTools: string[]): string[] => [...new Set([...deps.tools.names, ...scriptedTools])];

  async function plan(scheduled: PlanInput) {
    return atBoundary(async (spent) => {
      const input = withCurrentNames(scheduled);
      const knownTools = knownToolsWith(input.scriptedTools);
      const usable = input.allowedTools.filter((name) => knownTools.includes(name));
      const { text } = await callModel(
        { key: ModelKey.plan, tier: 'large', system: plannerSystem, prompt: plannerPrompt(input, deps.tools.describe(usable)), jsonSchema: planJsonSchema },
        input.script,
        input.reservedUsd,
        spent,
      );
      const plan = parseStructured(text, PlanSchema, 'plan');
      return { plan, knownTools, call: spent.call!, attempt: Context.current().info.attempt, ceilings: tierCeilings(input.script !== undefined), approvalTools: deps.tools.approvalTools };
    });
  }

  async function workerFacts(input: WorkerFactsInput): Promise<WorkerFacts> {
    return { knownTools: knownToolsWith(input.scriptedTools), ceilings: tierCeilings(input.scripted), approvalTools: deps.tools.approvalTools };
  }

  async function toolInputSchema(input: { tool: string }): Promise<Record<string, unknown> | undefined> {
    return deps.tools.inputSchema(input.tool);
  }

  return { plan, workerFacts, toolInputSchema };
}

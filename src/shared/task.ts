import { z } from 'zod';
import { agentLimits, outputFromMessage, taskIdPattern } from './limits';
import { withRule } from './json-schema';
import { taskPurposes } from './task-kinds';

const taskFields = {
    id: z.string().regex(taskIdPattern, 'task ids are 1-64 letters, digits, "_", "." or "-"'),
    kind: z.enum(['llm', 'tool', 'human_review', 'agent']),
    description: z.string().min(1, 'a task needs a description'),
    tool: z.string().min(1).optional(),
    input: z.record(z.string(), z.unknown()).optional(),
    dependsOn: z.array(z.string()).default([]),
    critical: z.boolean().default(true),
    tier: z.enum(['small', 'medium', 'large']).optional(),
    purpose: z.enum(taskPurposes).optional(),
    timeoutMs: z.number().int().positive().max(3_600_000).optional(),
    maxAttempts: z.number().int().min(1).max(20).optional(),
    successCriteria: z.string().optional(),
    estimatedCostUsd: z.number().min(0).optional(),
    fallbackTool: z.string().min(1).optional(),
    /** Ask this many models of the tier at once; the normalized majority answer wins. */
    consensus: z.number().int().min(2).max(5).optional(),
    /** Fields the task's output must have (checked before any evaluator). */
    requiredFields: z.array(z.string().min(1)).optional(),
    /** An agent task: the tools its loop may call. */
    tools: z.array(z.string().min(1)).optional(),
    /** An agent task: the most model calls its loop makes (default 10). */
    maxSteps: z.number().int().min(1).max(agentLimits.maxSteps).optional(),
};

/** One node of a plan. The planner model produces these; the workflow validates them. */
export const TaskSchema = withRule(z.object(taskFields), 'task-names-its-tool');

export type Task = z.output<typeof TaskSchema>;
/** A task as written by a planner or a scenario author, before defaults are applied. */
export type TaskDraft = z.input<typeof TaskSchema>;

/** The task whose output is the run's answer, as it is: then the run makes no synthesis call. */
export const OutputFromSchema = z.string().regex(taskIdPattern, outputFromMessage);

export const PlanSchema = z.object({
  tasks: z.array(TaskSchema).min(1, 'a plan needs at least one task'),
  rationale: z.string().optional(),
  outputFrom: OutputFromSchema.optional(),
});
export type Plan = z.output<typeof PlanSchema>;

/**
 * A plan a request brings with it (`request.plan`), written by a person: the same tasks, but an
 * unknown key is an error ("dependson" is a typo to report, not a field a model made up).
 */
export const SuppliedPlanSchema = z
  .object({
    tasks: z.array(withRule(z.object(taskFields).strict(), 'task-names-its-tool')).min(1, 'a plan needs at least one task'),
    rationale: z.string().optional(),
    outputFrom: OutputFromSchema.optional(),
  })
  .strict();

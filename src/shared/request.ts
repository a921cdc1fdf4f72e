import { z } from 'zod';
import { ApproverPolicySchema, DoorSignatureSchema } from './decision';
import { trimmedString } from './json-schema';
import { agentLimits, goalMaxChars, goalMessages, idempotencyKeyPattern, requestDefaults, visibleCharacter } from './limits';
import { ScriptSchema } from './scenario';
import { OutputFromSchema, SuppliedPlanSchema } from './task';

/** What a user asks Keel to do. Validated by the client before start and by the workflow again. */
export const AgentRequestSchema = z
  .object({
    goal: trimmedString().min(1, goalMessages.required).max(goalMaxChars, goalMessages.tooLong).regex(visibleCharacter, goalMessages.invisible),
    input: z.record(z.string(), z.unknown()).default({}),
    /** Tool names the plan may use. */
    tools: z.array(z.string().min(1)).default([]),
    /** Hard cap on model spend for the whole run, in US dollars. Default 1. */
    budgetUsd: z.number().positive('budgetUsd must be more than 0').max(10_000).default(requestDefaults.budgetUsd),
    /** Most tasks a plan may have. Default 20. */
    maxTasks: z.number().int().min(1).max(500).default(requestDefaults.maxTasks),
    /** ISO-8601 time after which the run stops scheduling work and ends `failed`. */
    deadline: z.iso.datetime({ offset: true, message: 'deadline must be an ISO-8601 date-time such as 2026-12-01T12:00:00Z' }).optional(),
    /** The same key starts one run, not two: it becomes the workflow id. */
    idempotencyKey: z
      .string()
      .regex(idempotencyKeyPattern, 'idempotencyKey is 1-200 letters, digits or _ . : @ -')
      .optional(),
    /** Replans allowed before the run escalates to a human. Default 2. */
    maxReplans: z.number().int().min(0).max(10).default(2),
    /** How long a run waits for a human decision, and what it does when none comes. */
    escalation: z
      .object({
        /** Default 24 h. */
        timeoutMs: z.number().int().min(1_000).max(30 * 86_400_000).default(86_400_000),
        /** Taken (and recorded as taken by timeout) when no decision arrives. Default reject. */
        defaultAction: z.enum(['approve', 'reject', 'skip']).default('reject'),
      })
      .strict()
      .default({ timeoutMs: 86_400_000, defaultAction: 'reject' }),
    /** false: no model call of this run reads or writes the response cache. Default true. */
    cache: z.boolean().default(true),
    /** Tier overrides by task id or task purpose, e.g. { "summarize": "large", "extraction": "medium" }. */
    tiers: z.record(z.string().min(1), z.enum(['small', 'medium', 'large'])).default({}),
    /**
     * Continue as new (same workflow id, fresh history) at the next replan once the history has
     * this many events. Default: when Temporal suggests it.
     */
    maxHistoryEvents: z.number().int().min(10).max(50_000).optional(),
    /**
     * The first plan, written by you: the run makes no planner call for it, and checks it as it
     * checks a model's (tools known and allowed, dependencies, cycles, budget). Replans, after a
     * semantic failure or an operator's request, still ask the planner model.
     */
    plan: SuppliedPlanSchema.optional(),
    /** The run's output is this task's output, and the run makes no synthesis call. */
    outputFrom: OutputFromSchema.optional(),
    /**
     * The run is one agent loop over `tools`: a model calls them step by step until it answers.
     * No planner call and no synthesis call; the answer is the loop's.
     */
    agent: z
      .object({
        maxSteps: z.number().int().min(1).max(agentLimits.maxSteps).optional(),
        maxToolCalls: z.number().int().min(1).max(agentLimits.maxToolCalls).optional(),
      })
      .strict()
      .optional(),
    /** Tools whose every call waits for a human's approval in this run, besides those that ask for it themselves. */
    approvals: ApproverPolicySchema.extend({ tools: z.array(z.string().min(1)).default([]) }).strict().optional(),
    /** Added by a door that verified who started the run (for approvals.forbidSelfApproval). */
    startedBy: DoorSignatureSchema.optional(),
    /** A scripted model and scripted tools that travel with the run (see scenario files). */
    scenario: ScriptSchema.optional(),
  })
  .strict();

export type AgentRequest = z.output<typeof AgentRequestSchema>;
export type AgentRequestInput = z.input<typeof AgentRequestSchema>;

/** Every problem with a value, one line each, with the path that has it. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
}

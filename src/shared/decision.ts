import { z } from 'zod';
import { decisionKinds } from './escalation-types';

/** What a human sends to a run that waits for them (signal or update `decide`). */
export const DecisionSchema = z
  .object({
    decision: z.enum(decisionKinds),
    taskId: z.string().min(1).optional(),
    note: z.string().max(4_000).optional(),
    guidance: z.string().max(4_000).optional(),
    by: z.string().min(1).max(200).optional(),
    /** Approving a budget_exhausted escalation: raise the budget by this much (default: the request's budgetUsd). */
    budgetUsd: z.number().positive('budgetUsd must be more than 0').max(10_000).optional(),
    /** Approving a tool_approval escalation: run the tool with this input instead of the one proposed. */
    input: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type Decision = z.output<typeof DecisionSchema>;

/** Operator-forced replan (signal `replan`), at any time. */
export const ReplanRequestSchema = z.object({ guidance: z.string().min(1).max(4_000), by: z.string().max(200).optional() }).strict();
export type ReplanRequest = z.output<typeof ReplanRequestSchema>;

export const VerdictSchema = z.object({ verdict: z.enum(['pass', 'soft', 'hard', 'critical']), reason: z.string().optional() });
export type Verdict = z.output<typeof VerdictSchema>;

import { z } from 'zod';

export const DecisionKind = { approve: 'approve', reject: 'reject', replan: 'replan', retry: 'retry', skip: 'skip' } as const;
export type DecisionKind = (typeof DecisionKind)[keyof typeof DecisionKind];
export const decisionKinds = Object.values(DecisionKind) as [DecisionKind, ...DecisionKind[]];

/** What a human sends to a run that waits for them (signal or update `decide`). */
export const DecisionSchema = z
  .object({
    decision: z.enum(decisionKinds),
    taskId: z.string().min(1).optional(),
    note: z.string().max(4_000).optional(),
    guidance: z.string().max(4_000).optional(),
    by: z.string().min(1).max(200).optional(),
  })
  .strict();
export type Decision = z.output<typeof DecisionSchema>;

/** Why a run waits for a human. */
export const EscalationKind = {
  humanReview: 'human_review',
  taskFailed: 'task_failed',
  criticalVerdict: 'critical_verdict',
  replansExhausted: 'replans_exhausted',
  budgetExhausted: 'budget_exhausted',
  noConsensus: 'no_consensus',
} as const;
export type EscalationKind = (typeof EscalationKind)[keyof typeof EscalationKind];

/** The escalation a run waits on, as the `pending` query and `keel pending` show it. */
export interface PendingEscalation {
  id: number;
  kind: EscalationKind;
  reason: string;
  taskId?: string;
  /** Decisions that mean something here, each with what it does. */
  choices: Array<{ decision: DecisionKind; effect: string }>;
  since: string;
  timeoutAt: string;
  defaultAction: DecisionKind;
}

/** Reply to the `decide` update. */
export interface DecisionReceipt {
  accepted: true;
  escalationId: number;
  decision: DecisionKind;
}

/** Operator-forced replan (signal `replan`), at any time. */
export const ReplanRequestSchema = z.object({ guidance: z.string().min(1).max(4_000), by: z.string().max(200).optional() }).strict();
export type ReplanRequest = z.output<typeof ReplanRequestSchema>;

export const VerdictSchema = z.object({ verdict: z.enum(['pass', 'soft', 'hard', 'critical']), reason: z.string().optional() });
export type Verdict = z.output<typeof VerdictSchema>;

/** Timer summaries of escalation waits start with this, so a reader of the history can find them. */
export const escalationTimerPrefix = 'waiting for a human: ';

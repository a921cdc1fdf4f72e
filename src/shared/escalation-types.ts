// Escalations and the decisions that answer them: plain values and types, free of zod, so workflow
// code can import them. The schemas are in decision.ts.
export const DecisionKind = { approve: 'approve', reject: 'reject', replan: 'replan', retry: 'retry', skip: 'skip' } as const;
export type DecisionKind = (typeof DecisionKind)[keyof typeof DecisionKind];
export const decisionKinds = Object.values(DecisionKind) as [DecisionKind, ...DecisionKind[]];

/** Why a run waits for a human. */
export const EscalationKind = {
  humanReview: 'human_review',
  taskFailed: 'task_failed',
  criticalVerdict: 'critical_verdict',
  replansExhausted: 'replans_exhausted',
  budgetExhausted: 'budget_exhausted',
  noConsensus: 'no_consensus',
  planningFailed: 'planning_failed',
  toolApproval: 'tool_approval',
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
  /** Why the default is not the request's escalation.defaultAction (it is not a choice here, or a policy keeps a timeout from approving). */
  defaultNote?: string;
  /** Under an approver policy: who may decide (identities and group:<name>s; each list must allow). */
  approvers?: string[][];
  /** Under a quorum: how many distinct verified approvals an approval needs, and who has approved so far. */
  quorum?: { needed: number; approvedBy: string[] };
  /** Only signed decisions count here (approvals.requireVerified, approvers or a quorum). */
  verifiedOnly?: boolean;
}

/** Reply to the `decide` update. */
export interface DecisionReceipt {
  accepted: true;
  escalationId: number;
  decision: DecisionKind;
  /** Who the run recorded the decision as from, and whether a signature proved it. */
  by?: string;
  verified?: boolean;
  /** An approval under a quorum: counted, and the escalation still waits for `needed - approvedBy.length` more. */
  quorum?: { needed: number; approvedBy: string[] };
}

/** Timer summaries of escalation waits start with this, so a reader of the history can find them. */
export const escalationTimerPrefix = 'waiting for a human: ';

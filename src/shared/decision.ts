import { z } from 'zod';
import { decisionKinds } from './escalation-types';

/** A door's signature over a decision or a start (see approvals.ts): verified by the workflow against KEEL_DECISION_KEYS. */
export const DoorSignatureSchema = z
  .object({
    keyId: z.string().min(1).max(100),
    by: z.string().min(1).max(200),
    groups: z.array(z.string().min(1).max(200)).max(100).optional(),
    door: z.string().min(1).max(50),
    at: z.iso.datetime({ offset: true, message: 'at must be an ISO-8601 date-time' }),
    sig: z.string().regex(/^[0-9a-f]{128}$/, 'sig is an Ed25519 signature: 128 lowercase hex digits'),
  })
  .strict();

/** Who may decide a run's escalations (request `approvals`, and keel.config.json `approvals`). */
export const ApproverPolicySchema = z.object({
  /** Escalation kind or tool name (or "*") → identities and "group:<name>"s that may decide it. */
  approvers: z.record(z.string().min(1), z.array(z.string().min(1).max(200)).min(1).max(100)).optional(),
  /** Escalation kind or tool name (or "*") → distinct verified approvers an approval needs. */
  quorum: z.record(z.string().min(1), z.number().int().min(1).max(10)).optional(),
  /** The run's verified starter may not decide its escalations (rejecting stays open). */
  forbidSelfApproval: z.boolean().optional(),
  /** Unsigned decisions (the Web UI's Send a Signal among them) are refused. */
  requireVerified: z.boolean().optional(),
});

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
    /** Added by a door that verified who sent it (keel serve with a token, a client holding KEEL_SIGNING_KEY). */
    signature: DoorSignatureSchema.optional(),
  })
  .strict();
export type Decision = z.output<typeof DecisionSchema>;

/** Operator-forced replan (signal `replan`), at any time. */
export const ReplanRequestSchema = z.object({ guidance: z.string().min(1).max(4_000), by: z.string().max(200).optional() }).strict();
export type ReplanRequest = z.output<typeof ReplanRequestSchema>;

export const VerdictSchema = z.object({ verdict: z.enum(['pass', 'soft', 'hard', 'critical']), reason: z.string().optional() });
export type Verdict = z.output<typeof VerdictSchema>;

// Verified approvals: what a door signs, and the approver policy a run applies. Plain values and
// functions, free of zod and of crypto, so workflow code can import them (the schemas are in
// decision.ts and request.ts; signing is in security/decision-keys.ts, verifying in workflows/approvals.ts).
import { stableJson } from './stable-json';

/**
 * A door's statement that a verified identity sent this decision (or started this run): an Ed25519
 * signature, by the key `keyId`, over `decisionMessage(...)` or `startMessage(...)`.
 */
export interface DoorSignature {
  keyId: string;
  /** The identity the door verified: a token's name, an OIDC subject, the holder of a personal key. */
  by: string;
  /** The groups the identity's token claims (OIDC), for approver lists with `group:<name>`. */
  groups?: string[];
  /** Which door: "keel serve", "keel mcp", "cli", "sdk". */
  door: string;
  /** When the door signed (ISO-8601). */
  at: string;
  /** 128 hex digits. */
  sig: string;
}

/** Who a signature says sent a decision or started a run, once the workflow has checked it. */
export interface VerifiedIdentity {
  by: string;
  groups: string[];
  door: string;
  keyId: string;
}

/**
 * A key the workers trust (KEEL_DECISION_KEYS). A door key (no `identity`) vouches for whoever its
 * door authenticated; a personal key signs only as its own identity.
 */
export interface TrustedKey {
  id: string;
  /** The Ed25519 public key, 64 hex digits. */
  publicKey: string;
  identity?: string;
}

/** Who may decide a run's escalations. The request's and the worker's (keel.config.json) both apply. */
export interface ApproverPolicy {
  /** Escalation kind or tool name (or "*") → the identities and `group:<name>`s that may decide it. */
  approvers?: Record<string, string[]>;
  /** Escalation kind or tool name (or "*") → how many distinct verified approvers an approval needs. */
  quorum?: Record<string, number>;
  /** The identity that started the run may not decide its escalations (rejecting stays open). */
  forbidSelfApproval?: boolean;
  /** Only signed decisions count: an unsigned one, such as the Web UI's "Send a Signal", is refused. */
  requireVerified?: boolean;
}

/** What the workflow reads once from its worker: the keys it trusts and the worker's policy. */
export interface ApprovalTrust {
  keys: TrustedKey[];
  policy?: ApproverPolicy;
}

export const decisionSignatureVersion = 'keel-decision-1';
export const startSignatureVersion = 'keel-start-1';

/** The escalation a signature is bound to: the run and the pending escalation's id and start time. */
export interface EscalationBinding {
  workflowId: string;
  escalationId: number;
  since: string;
}

/** The exact text a door signs for a decision (the decision's own fields, without its signature). */
export function decisionMessage(binding: EscalationBinding, decision: Record<string, unknown>, signer: Omit<DoorSignature, 'sig' | 'keyId'>): string {
  const { signature: _signature, by: _by, ...fields } = decision;
  return stableJson({ v: decisionSignatureVersion, ...binding, decision: fields, by: signer.by, groups: signer.groups ?? [], door: signer.door, at: signer.at });
}

/** The exact text a door signs for the start of a run: who started it. */
export function startMessage(workflowId: string, signer: Omit<DoorSignature, 'sig' | 'keyId'>): string {
  return stableJson({ v: startSignatureVersion, workflowId, by: signer.by, groups: signer.groups ?? [], door: signer.door, at: signer.at });
}

/** The policy key an escalation is looked up under: the tool's name first, then the kind, then "*". */
export function policyKeys(kind: string, tool?: string): string[] {
  return [...(tool ? [tool] : []), kind, '*'];
}

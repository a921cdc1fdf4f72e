// Who sent a decision, and whether they may: signatures checked against the public keys the worker
// trusts (read once per run, by a local activity, so replay sees the same keys), then the approver
// policies of the worker and of the request, both of which must allow it.
// Pure JS, no I/O: workflow-safe. Preloaded with the rest of the workflow modules (src/workflow-bundle.ts),
// so the curve is evaluated once per V8 context, not per run.
import { ed25519 } from '@noble/curves/ed25519';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils';
import {
  type ApprovalTrust,
  type ApproverPolicy,
  type Decision,
  type DoorSignature,
  type EscalationBinding,
  type VerifiedIdentity,
  decisionMessage,
  policyKeys,
  startMessage,
} from '../shared/workflow';
import { isApproval, isRejection } from './decisions';

/** Who a decision says it is from: checked by a signature, or only claimed. */
export type Sender = { verified: true; identity: VerifiedIdentity } | { verified: false; by?: string };

/** The identity a signature proves, or why it proves nothing (a bad signature is refused, not downgraded). */
export function checkSignature(signature: DoorSignature, message: string, trust: ApprovalTrust): VerifiedIdentity | string {
  const key = trust.keys.find((candidate) => candidate.id === signature.keyId);
  if (!key) return `it is signed with key "${signature.keyId}", which the workers do not trust (KEEL_DECISION_KEYS lists ${trust.keys.length > 0 ? trust.keys.map((known) => `"${known.id}"`).join(', ') : 'no key'})`;
  if (key.identity !== undefined && key.identity !== signature.by) return `key "${key.id}" signs only as ${key.identity}, not as ${signature.by}`;
  let valid = false;
  try {
    valid = ed25519.verify(hexToBytes(signature.sig), utf8ToBytes(message), hexToBytes(key.publicKey));
  } catch {
    valid = false;
  }
  if (!valid) return 'its signature does not match';
  return { by: signature.by, groups: signature.groups ?? [], door: signature.door, keyId: key.id };
}

/** The sender of a decision to this escalation, or why its signature is refused. */
export function senderOf(decision: Decision, binding: EscalationBinding, trust: ApprovalTrust): Sender | string {
  const { signature } = decision;
  if (!signature) return { verified: false, ...(decision.by ? { by: decision.by } : {}) };
  const checked = checkSignature(signature, decisionMessage(binding, decision as unknown as Record<string, unknown>, signature), trust);
  if (typeof checked === 'string') {
    return `the decision's signature is refused: ${checked === 'its signature does not match' ? `it does not match this decision for escalation ${binding.escalationId} (since ${binding.since}); it was signed for another escalation, or changed after signing` : checked}`;
  }
  return { verified: true, identity: checked };
}

/** Who started the run, when a door signed it; a string says why the signature is refused. */
export function starterOf(signature: DoorSignature | undefined, workflowId: string, trust: ApprovalTrust): VerifiedIdentity | string | undefined {
  if (!signature) return undefined;
  return checkSignature(signature, startMessage(workflowId, signature), trust);
}

/** What an escalation asks, for the policy: its kind, and the tool for a tool approval. */
export interface PolicySubject {
  kind: string;
  tool?: string;
}

function lookup<T>(table: Record<string, T> | undefined, subject: PolicySubject): T | undefined {
  if (!table) return undefined;
  const key = policyKeys(subject.kind, subject.tool).find((candidate) => Object.prototype.hasOwnProperty.call(table, candidate));
  return key === undefined ? undefined : table[key];
}

/** The identities (and groups) that may decide this escalation under each policy that lists some. */
export function approverLists(policies: readonly ApproverPolicy[], subject: PolicySubject): string[][] {
  return policies.map((policy) => lookup(policy.approvers, subject)).filter((list): list is string[] => list !== undefined);
}

/** How many distinct verified approvals an approval of this escalation needs (1 without a quorum). */
export function quorumFor(policies: readonly ApproverPolicy[], subject: PolicySubject): number {
  return Math.max(1, ...policies.map((policy) => lookup(policy.quorum, subject) ?? 1));
}

export function requiresVerified(policies: readonly ApproverPolicy[], subject: PolicySubject): boolean {
  return policies.some((policy) => policy.requireVerified || policy.forbidSelfApproval) || approverLists(policies, subject).length > 0 || quorumFor(policies, subject) > 1;
}

function listed(identity: VerifiedIdentity, list: readonly string[]): boolean {
  return list.some((entry) => (entry.startsWith('group:') ? identity.groups.includes(entry.slice('group:'.length)) : entry === identity.by));
}

/** How to send a decision that counts, for refusals and the details. */
export const verifiedDoors = 'decide through a door that signs: `keel approve` (or reject …) with KEEL_SIGNING_KEY set, POST /runs/<id>/decisions to `keel serve` with a bearer token, or the SDK with a signing key';

/**
 * Why this sender may not take this decision under the policies, or undefined if they may.
 * `starter` is who started the run (undefined: no door signed its start).
 */
export function policyProblem(
  policies: readonly ApproverPolicy[],
  subject: PolicySubject,
  decision: Decision['decision'],
  sender: Sender,
  starter: VerifiedIdentity | string | undefined,
): string | undefined {
  const lists = approverLists(policies, subject);
  const quorum = quorumFor(policies, subject);
  if (!sender.verified) {
    if (policies.some((policy) => policy.requireVerified)) return `this run takes only verified decisions (approvals.requireVerified), and this one is unsigned (the Web UI's Send a Signal carries no identity): ${verifiedDoors}`;
    if (lists.length > 0) return `only ${lists.map((list) => list.join(', ')).join(' (and also) ')} may decide this escalation, and an unsigned decision proves no identity: ${verifiedDoors}`;
    if (quorum > 1 && isApproval(decision)) return `approving this escalation needs ${quorum} distinct verified approvers, and an unsigned decision proves no identity: ${verifiedDoors}`;
  }
  if (sender.verified) {
    const outside = lists.find((list) => !listed(sender.identity, list));
    if (outside) return `${sender.identity.by} may not decide this escalation: only ${outside.join(', ')} may (approvals.approvers)`;
  }
  if (!isRejection(decision) && policies.some((policy) => policy.forbidSelfApproval)) {
    if (starter === undefined || typeof starter === 'string') {
      return `approvals.forbidSelfApproval: this run's starter is not verified${typeof starter === 'string' ? ` (${starter})` : ' (no door signed its start)'}, so no one can be shown not to be it; only reject is possible. Start runs through a door that signs (keel serve with a token, or a client with KEEL_SIGNING_KEY)`;
    }
    if (!sender.verified) return `approvals.forbidSelfApproval: an unsigned decision cannot be shown not to come from the run's starter: ${verifiedDoors}`;
    if (sender.identity.by === starter.by) return `${starter.by} started this run and may not decide its escalations (approvals.forbidSelfApproval); only reject is open to them`;
  }
  return undefined;
}

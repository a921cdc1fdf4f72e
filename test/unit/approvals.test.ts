// Signed decisions and approver policies, without a server: the door's signature (node side) checked
// by the workflow's code (pure JS), the policy rules one by one, and the parsers fuzzed.
import fc from 'fast-check';
import { loadConfig } from '../../src/config';
import { newKeyPair, parseDecisionKeys, parseSigningKey, publicKeyOf, signDecision, signStart, type SigningKey } from '../../src/security/decision-keys';
import { DecisionSchema, type ApprovalTrust, type Decision } from '../../src/shared';
import { checkDecision } from '../../src/workflows/contracts';
import { policyProblem, quorumFor, senderOf, starterOf, type Sender } from '../../src/workflows/approvals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const door = newKeyPair('door-1');
const personal = newKeyPair('alice-laptop');
const doorKey = parseSigningKey(door.signingKey) as SigningKey;
const aliceKey = parseSigningKey(personal.signingKey) as SigningKey;
const trust: ApprovalTrust = { keys: parseDecisionKeys(`${door.decisionKey},${personal.decisionKey}:alice@acme`) as ApprovalTrust['keys'] };
const binding = { workflowId: 'keel-1', escalationId: 2, since: '2026-12-01T10:00:00.000Z' };

function signed(decision: Decision, key = doorKey, who = { by: 'carol', groups: ['finance'], door: 'keel serve' }): Decision {
  return { ...decision, signature: signDecision(key, binding, decision as Record<string, unknown>, who) };
}

describe('signatures', () => {
  test('a door signs, the workflow verifies: the identity, its groups and the door', () => {
    const sender = senderOf(signed({ decision: 'approve', note: 'ok' }), binding, trust);
    expect(sender).toEqual({ verified: true, identity: { by: 'carol', groups: ['finance'], door: 'keel serve', keyId: 'door-1' } });
    // What the decision claims in `by` does not matter: the signature names the sender.
    expect(senderOf({ ...signed({ decision: 'approve' }), by: 'mallory' }, binding, trust)).toMatchObject({ verified: true, identity: { by: 'carol' } });
  });

  test('a changed decision, another escalation, another run, or a changed signer is refused, not taken as unsigned', () => {
    const decision = signed({ decision: 'approve', note: 'ok' });
    expect(senderOf({ ...decision, note: 'changed' }, binding, trust)).toMatch(/does not match this decision for escalation 2/);
    expect(senderOf({ ...decision, decision: 'reject' }, binding, trust)).toMatch(/does not match/);
    expect(senderOf(decision, { ...binding, escalationId: 3 }, trust)).toMatch(/signed for another escalation/);
    expect(senderOf(decision, { ...binding, workflowId: 'keel-2' }, trust)).toMatch(/does not match/);
    expect(senderOf({ ...decision, signature: { ...decision.signature!, by: 'root' } }, binding, trust)).toMatch(/does not match/);
    expect(senderOf({ ...decision, signature: { ...decision.signature!, groups: ['admins'] } }, binding, trust)).toMatch(/does not match/);
    expect(senderOf({ ...decision, signature: { ...decision.signature!, sig: '0'.repeat(128) } }, binding, trust)).toMatch(/does not match/);
  });

  test('a key the workers do not list, and a personal key signing as someone else, are refused', () => {
    const stranger = parseSigningKey(newKeyPair('stranger').signingKey) as SigningKey;
    expect(senderOf(signed({ decision: 'approve' }, stranger), binding, trust)).toMatch(/key "stranger", which the workers do not trust \(KEEL_DECISION_KEYS lists "door-1", "alice-laptop"\)/);
    expect(senderOf(signed({ decision: 'approve' }, aliceKey, { by: 'bob', groups: [], door: 'cli' }), binding, trust)).toMatch(/key "alice-laptop" signs only as alice@acme, not as bob/);
    expect(senderOf(signed({ decision: 'approve' }, aliceKey, { by: 'alice@acme', groups: [], door: 'cli' }), binding, trust)).toMatchObject({ verified: true, identity: { by: 'alice@acme', door: 'cli' } });
    expect(senderOf({ decision: 'approve', by: 'dana' }, binding, trust)).toEqual({ verified: false, by: 'dana' });
  });

  test("a signed start names the run's starter, bound to its workflow id", () => {
    const signature = signStart(doorKey, 'keel-1', { by: 'ana', door: 'keel serve' });
    expect(starterOf(signature, 'keel-1', trust)).toEqual({ by: 'ana', groups: [], door: 'keel serve', keyId: 'door-1' });
    expect(starterOf(signature, 'keel-2', trust)).toBe('its signature does not match');
    expect(starterOf(undefined, 'keel-1', trust)).toBeUndefined();
  });

  test('the signature travels in the decision contract, checked alike by zod and the workflow', () => {
    const decision = signed({ decision: 'approve' });
    expect(DecisionSchema.safeParse(decision).success).toBe(true);
    expect(checkDecision(decision).success).toBe(true);
    const bad = { ...decision, signature: { ...decision.signature!, sig: 'xyz' } };
    expect(DecisionSchema.safeParse(bad).success).toBe(false);
    expect(checkDecision(bad)).toMatchObject({ success: false, issues: [expect.stringContaining('signature.sig: sig is an Ed25519 signature')] });
  });
});

describe('policies', () => {
  const carol: Sender = { verified: true, identity: { by: 'carol', groups: ['finance'], door: 'keel serve', keyId: 'door-1' } };
  const bob: Sender = { verified: true, identity: { by: 'bob', groups: [], door: 'keel serve', keyId: 'door-1' } };
  const unsigned: Sender = { verified: false, by: 'carol' };
  const review = { kind: 'human_review' };
  const refund = { kind: 'tool_approval', tool: 'issue_refund' };

  test('approvers: a name or a group, looked up by tool, then kind, then "*"', () => {
    const policy = { approvers: { issue_refund: ['group:finance'], tool_approval: ['bob'], '*': ['nobody'] } };
    expect(policyProblem([policy], refund, 'approve', carol, undefined)).toBeUndefined();
    expect(policyProblem([policy], refund, 'approve', bob, undefined)).toMatch(/bob may not decide this escalation: only group:finance may/);
    expect(policyProblem([policy], { kind: 'tool_approval', tool: 'send_email' }, 'approve', bob, undefined)).toBeUndefined();
    expect(policyProblem([policy], review, 'reject', bob, undefined)).toMatch(/only nobody may/);
    expect(policyProblem([policy], refund, 'approve', unsigned, undefined)).toMatch(/unsigned decision proves no identity/);
  });

  test("the worker's and the request's policies both apply", () => {
    const worker = { approvers: { '*': ['carol', 'bob'] } };
    const request = { approvers: { human_review: ['bob'] }, quorum: { human_review: 2 } };
    expect(policyProblem([worker, request], review, 'approve', carol, undefined)).toMatch(/carol may not decide this escalation: only bob may/);
    expect(policyProblem([worker, request], review, 'approve', bob, undefined)).toBeUndefined();
    expect(quorumFor([worker, request], review)).toBe(2);
    expect(quorumFor([{ quorum: { '*': 3 } }, request], review)).toBe(3);
  });

  test('requireVerified refuses every unsigned decision; a quorum refuses an unsigned approval', () => {
    expect(policyProblem([{ requireVerified: true }], review, 'reject', unsigned, undefined)).toMatch(/this run takes only verified decisions/);
    expect(policyProblem([{ quorum: { human_review: 2 } }], review, 'approve', unsigned, undefined)).toMatch(/needs 2 distinct verified approvers/);
    expect(policyProblem([{ quorum: { human_review: 2 } }], review, 'reject', unsigned, undefined)).toBeUndefined();
    expect(policyProblem([], review, 'approve', unsigned, undefined)).toBeUndefined();
  });

  test('forbidSelfApproval: not the verified starter, not unsigned, not on an unverified start; reject stays open', () => {
    const policy = [{ forbidSelfApproval: true }];
    const starter = { by: 'carol', groups: [], door: 'keel serve', keyId: 'door-1' };
    expect(policyProblem(policy, review, 'approve', carol, starter)).toMatch(/carol started this run and may not decide its escalations/);
    expect(policyProblem(policy, review, 'approve', bob, starter)).toBeUndefined();
    expect(policyProblem(policy, review, 'reject', carol, starter)).toBeUndefined();
    expect(policyProblem(policy, review, 'approve', unsigned, starter)).toMatch(/unsigned decision cannot be shown not to come from the run's starter/);
    expect(policyProblem(policy, review, 'approve', bob, undefined)).toMatch(/starter is not verified \(no door signed its start\)/);
    expect(policyProblem(policy, review, 'approve', bob, 'its signature does not match')).toMatch(/starter is not verified \(its signature does not match\)/);
  });
});

describe('keys and configuration', () => {
  test('a key pair: the public half is what KEEL_DECISION_KEYS lists', () => {
    expect(door.signingKey).toMatch(/^door-1:[0-9a-f]{64}$/);
    expect(door.decisionKey).toBe(`door-1:${publicKeyOf(doorKey)}`);
  });

  test('bad keys are refused, naming the variable and never quoting the key', () => {
    const secret = 'a'.repeat(63);
    expect(parseSigningKey(`k:${secret}`)).toBe('KEEL_SIGNING_KEY is not id:<64 hex digits> (make one with `keel keys new`)');
    expect(parseDecisionKeys('')).toMatch(/KEEL_DECISION_KEYS is empty/);
    expect(parseDecisionKeys(`${door.decisionKey},${door.decisionKey}`)).toMatch(/entry 2: the key id "door-1" appears twice/);
    expect(parseDecisionKeys(`x:${'f'.repeat(64)}`)).toMatch(/entry 1 \(x\): not an Ed25519 public key|entry 1 is not/);
    expect(() => loadConfig({ KEEL_SIGNING_KEY: `k:${secret}` })).toThrow(/KEEL_SIGNING_KEY is not id:<64 hex digits>/);
    expect(() => loadConfig({ KEEL_SIGNING_KEY: `k:${secret}` })).not.toThrow(new RegExp(secret));
  });

  test("keel.config.json's approvals and KEEL_DECISION_KEYS make the worker's trust", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keel-approvals-'));
    const file = path.join(dir, 'keel.config.json');
    writeFileSync(file, JSON.stringify({ approvals: { approvers: { issue_refund: ['group:finance'] }, quorum: { issue_refund: 2 }, requireVerified: true } }));
    const config = loadConfig({ KEEL_CONFIG: file, KEEL_DECISION_KEYS: door.decisionKey, KEEL_SIGNING_KEY: door.signingKey });
    expect(config.approvals).toEqual({ keys: [{ id: 'door-1', publicKey: publicKeyOf(doorKey) }], policy: { approvers: { issue_refund: ['group:finance'] }, quorum: { issue_refund: 2 }, requireVerified: true } });
    expect(config.signingKey?.id).toBe('door-1');
    writeFileSync(file, JSON.stringify({ approvals: { quorum: { issue_refund: 20 } } }));
    expect(() => loadConfig({ KEEL_CONFIG: file })).toThrow(/approvals\.quorum\.issue_refund/);
  });

  test('fuzz: the key parsers and the decision checkers never throw, and agree', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const keys = parseDecisionKeys(text);
        expect(typeof keys === 'string' || Array.isArray(keys)).toBe(true);
        const key = parseSigningKey(text);
        expect(typeof key === 'string' || key.seed.length === 32).toBe(true);
      }),
      { numRuns: 500 },
    );
    const signature = fc.record(
      { keyId: fc.string({ maxLength: 5 }), by: fc.string({ maxLength: 5 }), door: fc.constantFrom('cli', ''), at: fc.constantFrom('2026-12-01T10:00:00Z', 'yesterday'), sig: fc.constantFrom('a'.repeat(128), 'A'.repeat(128), 'a'), groups: fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.record({ decision: fc.constantFrom('approve', 'reject', 'maybe'), signature: fc.oneof(signature, fc.anything()) }, { requiredKeys: ['decision'] }), (value) => {
        expect(checkDecision(value).success).toBe(DecisionSchema.safeParse(value).success);
        const checked = checkDecision(value);
        if (checked.success) expect(typeof senderOf(checked.data, binding, trust)).toMatch(/string|object/);
      }),
      { numRuns: 500 },
    );
  });
});

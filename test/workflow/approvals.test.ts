// Verified approvals: doors sign decisions and starts with Ed25519 keys, the run checks them against
// the public keys its worker trusts, and approver policies (approvers, quorum, forbidSelfApproval,
// requireVerified) decide who may decide. Real dev server, real worker, real clients.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KeelClient } from '../../src/client';
import { parseDecisionKeys, parseSigningKey, newKeyPair, type SigningKey } from '../../src/security/decision-keys';
import { decideSignal, parseScenario, type AgentRequestInput, type RunState } from '../../src/shared';
import { defaultDependencies } from '../../src/worker';
import { runKeel } from '../helpers/cli';
import { waitForPending } from '../helpers/escalation';
import { llmTask, scriptedRequest } from '../helpers/scenarios';
import { createTestKit, type TestKit } from '../helpers/temporal';

const door = newKeyPair('door-1');
const alice = newKeyPair('alice-laptop');
const stranger = newKeyPair('stranger');
const doorKey = parseSigningKey(door.signingKey) as SigningKey;
const aliceKey = parseSigningKey(alice.signingKey) as SigningKey;
const strangerKey = parseSigningKey(stranger.signingKey) as SigningKey;
const trustedKeys = parseDecisionKeys(`${door.decisionKey},${alice.decisionKey}:alice@acme`);
if (typeof trustedKeys === 'string') throw new Error(trustedKeys);

let kit: TestKit;
/** Clients as the doors are: keel serve's key (it signs for whoever its token named), alice's own CLI key, a key no worker trusts. */
let serveDoor: KeelClient;
let aliceCli: KeelClient;
let strangerCli: KeelClient;
beforeAll(async () => {
  kit = await createTestKit({ dependencies: { ...defaultDependencies({ home: '.keel/test/approvals' }), approvals: { keys: trustedKeys } } });
  const at = { address: kit.address, taskQueue: kit.taskQueue };
  serveDoor = await KeelClient.connect({ ...at, signingKey: doorKey, door: 'keel serve' });
  aliceCli = await KeelClient.connect({ ...at, signingKey: aliceKey, door: 'cli' });
  strangerCli = await KeelClient.connect({ ...at, signingKey: strangerKey, door: 'cli' });
});
afterAll(async () => {
  await Promise.all([serveDoor, aliceCli, strangerCli].map((client) => client?.close()));
  await kit.close();
});

const review = (approvals: Record<string, unknown>): AgentRequestInput => ({
  ...scriptedRequest({
    tasks: [llmTask('draft'), { id: 'review', kind: 'human_review', description: 'check the draft', dependsOn: ['draft'] }, llmTask('publish', ['review'])],
    model: { 'task:draft': [{ text: 'the draft' }], 'task:publish': [{ text: 'published' }] },
    escalation: { timeoutMs: 120_000 },
  }),
  approvals,
});

/** The Markdown the Web UI shows for the run. */
async function details(workflowId: string, on: TestKit = kit): Promise<string> {
  const metadata = (await on.client.workflow.getHandle(workflowId).query('__temporal_workflow_metadata')) as { currentDetails?: string };
  return metadata.currentDetails ?? '';
}

async function state(workflowId: string): Promise<RunState> {
  return kit.keel.queryState(workflowId);
}

test('approvers: only the listed identities and groups decide, and only with a signature; a refused signal is kept with its reason', async () => {
  const result = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(review({ approvers: { human_review: ['alice@acme', 'group:finance'] } }));
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending.approvers).toEqual([['alice@acme', 'group:finance']]);
    expect(pending.verifiedOnly).toBe(true);
    expect(await details(workflowId)).toContain('- only: `alice@acme`, `group:finance`');

    await expect(kit.keel.decide(workflowId, { decision: 'approve', by: 'alice@acme' })).rejects.toThrow(/an unsigned decision proves no identity: decide through a door that signs/);
    await expect(serveDoor.decide(workflowId, { decision: 'approve' }, { as: { by: 'bob' } })).rejects.toThrow(/bob may not decide this escalation: only alice@acme, group:finance may/);
    await expect(strangerCli.decide(workflowId, { decision: 'approve', by: 'alice@acme' })).rejects.toThrow(/signed with key "stranger", which the workers do not trust/);
    // alice's personal key signs only as alice.
    await expect(aliceCli.decide(workflowId, { decision: 'approve', by: 'mallory' })).rejects.toThrow(/key "alice-laptop" signs only as alice@acme, not as mallory/);

    // The same refusal reaches a signal as an ignored signal, with why.
    await kit.client.workflow.getHandle(workflowId).signal(decideSignal, { decision: 'approve', by: 'alice@acme' });
    await waitFor(async () => (await state(workflowId)).ignoredSignals?.some((ignored) => /proves no identity/.test(ignored.reason)) === true);
    expect((await kit.keel.getPending(workflowId))?.id).toBe(pending.id);

    const receipt = await serveDoor.decide(workflowId, { decision: 'approve', note: 'finance checked it' }, { as: { by: 'carol', groups: ['finance'] } });
    expect(receipt).toMatchObject({ accepted: true, decision: 'approve', by: 'carol', verified: true });
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.escalations).toEqual([expect.objectContaining({ decision: 'approve', decidedBy: 'carol', door: 'keel serve', verified: true, note: 'finance checked it' })]);
});

test('quorum: a refund waits for two distinct verified approvers, the details show who has approved, then it runs with the agreed input', async () => {
  const scenario = parseScenario(readFileSync(path.join(__dirname, '../../examples/refund-agent.json'), 'utf8'), 'refund-agent.json');
  const request = { ...scenario.request, approvals: { tools: ['issue_refund'], quorum: { issue_refund: 2 } } } as AgentRequestInput;
  const edited = { orderId: 7, amountUsd: 18 };
  const { result, history } = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun({ ...request, idempotencyKey: `approvals-quorum-${Date.now()}` });
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending).toMatchObject({ kind: 'tool_approval', quorum: { needed: 2, approvedBy: [] }, verifiedOnly: true });

    const first = await aliceCli.decide(workflowId, { decision: 'approve', input: edited, by: 'alice@acme' });
    expect(first).toMatchObject({ by: 'alice@acme', verified: true, quorum: { needed: 2, approvedBy: ['alice@acme'] } });
    // Counted, not decided: the refund has not run, the run still waits, and the details say who approved.
    expect((await kit.keel.getPending(workflowId))?.quorum).toEqual({ needed: 2, approvedBy: ['alice@acme'] });
    expect(await details(workflowId)).toContain('approving needs 2 distinct verified approvers; so far `alice@acme`');
    expect((await state(workflowId)).phase).toBe('awaiting_approval');
    const listed = await runKeel(['pending'], { TEMPORAL_ADDRESS: kit.address, KEEL_TASK_QUEUE: kit.taskQueue });
    expect(listed.stdout).toContain('approvals: 1 of 2 (alice@acme)');

    await expect(aliceCli.decide(workflowId, { decision: 'approve', input: edited, by: 'alice@acme' })).rejects.toThrow(/alice@acme has already approved this escalation; it needs 2 distinct approvers/);
    await expect(serveDoor.decide(workflowId, { decision: 'approve', input: { orderId: 7, amountUsd: 24 } }, { as: { by: 'bob' } })).rejects.toThrow(/approve on the same terms as the earlier approval/);
    await expect(kit.keel.decide(workflowId, { decision: 'approve', input: edited, by: 'bob' })).rejects.toThrow(/this run takes only verified decisions|needs 2 distinct verified approvers/);

    const second = await serveDoor.decide(workflowId, { decision: 'approve', input: edited }, { as: { by: 'bob' } });
    expect(second).toMatchObject({ by: 'bob', verified: true, quorum: { needed: 2, approvedBy: ['alice@acme', 'bob'] } });
    return { result: await kit.keel.getResult(workflowId), history: await kit.keel.exportHistory(workflowId) };
  });
  expect(result.status).toBe('completed');
  expect(result.escalations).toEqual([expect.objectContaining({ kind: 'tool_approval', decision: 'approve', decidedBy: 'bob', door: 'keel serve', verified: true, approvedBy: ['alice@acme', 'bob'] })]);
  expect(result.tasks[0]).toMatchObject({ toolCalls: [{ tool: 'lookup_order', status: 'completed' }, { tool: 'issue_refund', status: 'completed' }] });
  // The new path's history joins the replay gate when recorded on purpose.
  if (process.env.KEEL_RECORD_HISTORIES === '1') writeFileSync(path.join(__dirname, '../histories/refund-agent-quorum.json'), `${history}\n`);
});

test('forbidSelfApproval: the verified starter cannot approve their own run, someone else can; an unsigned start leaves only reject', async () => {
  const policy = { forbidSelfApproval: true };
  const result = await kit.withWorker(async () => {
    const { workflowId } = await serveDoor.startRun(review(policy), { as: { by: 'ana' } });
    await waitForPending(kit.keel, workflowId);
    await expect(serveDoor.decide(workflowId, { decision: 'approve' }, { as: { by: 'ana' } })).rejects.toThrow(/ana started this run and may not decide its escalations \(approvals.forbidSelfApproval\)/);
    await expect(kit.keel.decide(workflowId, { decision: 'approve', by: 'bob' })).rejects.toThrow(/an unsigned decision cannot be shown not to come from the run's starter/);
    await serveDoor.decide(workflowId, { decision: 'approve' }, { as: { by: 'bob' } });

    const unsigned = await kit.keel.startRun(review(policy));
    await waitForPending(kit.keel, unsigned.workflowId);
    await expect(serveDoor.decide(unsigned.workflowId, { decision: 'approve' }, { as: { by: 'bob' } })).rejects.toThrow(/this run's starter is not verified \(no door signed its start\)/);
    await kit.keel.decide(unsigned.workflowId, { decision: 'reject', note: 'start it through keel serve', by: 'bob' });
    expect((await kit.keel.getResult(unsigned.workflowId)).status).toBe('rejected');
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.escalations[0]).toMatchObject({ decidedBy: 'bob', door: 'keel serve', verified: true });
});

test("requireVerified from the worker's policy: unsigned decisions are refused and the details name the doors; a signed CLI decision is recorded as verified", async () => {
  const strict = await createTestKit({ dependencies: { ...defaultDependencies({ home: '.keel/test/approvals-strict' }), approvals: { keys: trustedKeys, policy: { requireVerified: true } } } });
  const cli = await KeelClient.connect({ address: strict.address, taskQueue: strict.taskQueue, signingKey: aliceKey, door: 'cli' });
  try {
    const result = await strict.withWorker(async () => {
      const { workflowId } = await strict.keel.startRun(review({}));
      await waitForPending(strict.keel, workflowId);
      const own = await details(workflowId, strict);
      expect(own).toContain("Only verified decisions count here: this Web UI's **Send a Signal** carries no identity and is refused.");
      expect(own).not.toContain('signal name **`decide`**');
      await expect(strict.keel.decide(workflowId, { decision: 'approve', by: 'dana' })).rejects.toThrow(/this run takes only verified decisions \(approvals.requireVerified\)/);
      const receipt = await cli.decide(workflowId, { decision: 'approve', by: 'alice@acme' });
      expect(receipt).toMatchObject({ by: 'alice@acme', verified: true });
      return strict.keel.getResult(workflowId);
    });
    expect(result.escalations[0]).toMatchObject({ decidedBy: 'alice@acme', door: 'cli', verified: true });
  } finally {
    await cli.close();
    await strict.close();
  }
});

test('without a policy nothing changes: an unsigned decision is taken and recorded as unverified, through its door', async () => {
  const result = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(review({}));
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending.verifiedOnly).toBeUndefined();
    expect(await kit.keel.decide(workflowId, { decision: 'approve', by: 'dana' })).toMatchObject({ by: 'dana', verified: false });
    return kit.keel.getResult(workflowId);
  });
  expect(result.escalations[0]).toMatchObject({ decidedBy: 'dana', door: 'update' });
  expect(result.escalations[0]!.verified).toBeUndefined();
});

test('a timeout cannot approve what a policy gives to verified approvers: defaultAction "approve" becomes "reject" and says why; without a policy it still approves', async () => {
  const timingOut = (approvals?: Record<string, unknown>): AgentRequestInput => ({
    ...scriptedRequest({
      tasks: [llmTask('draft'), { id: 'review', kind: 'human_review', description: 'check the draft', dependsOn: ['draft'] }, llmTask('publish', ['review'])],
      model: { 'task:draft': [{ text: 'the draft' }], 'task:publish': [{ text: 'published' }] },
      escalation: { timeoutMs: 8_000, defaultAction: 'approve' },
    }),
    ...(approvals ? { approvals } : {}),
  });
  const { guarded, open, history } = await kit.withWorker(async () => {
    const [guardedRun, openRun] = await Promise.all([kit.keel.startRun(timingOut({ approvers: { human_review: ['group:finance'] } })), kit.keel.startRun(timingOut())]);
    const pending = await waitForPending(kit.keel, guardedRun.workflowId);
    expect(pending).toMatchObject({ defaultAction: 'reject', defaultNote: expect.stringMatching(/only verified approvers approve this, so a timeout rejects it/) });
    expect(await details(guardedRun.workflowId)).toContain('the run takes `reject`');
    // keel pending finds waiting runs through visibility, which may lag the run by a moment.
    let listed = '';
    for (let tries = 0; tries < 5 && !listed.includes(guardedRun.workflowId); tries++) listed = (await runKeel(['pending'], { TEMPORAL_ADDRESS: kit.address, KEEL_TASK_QUEUE: kit.taskQueue })).stdout;
    expect(listed).toMatch(/default reject at \S+ \(the approvals policy lets only verified approvers approve this/);
    expect((await waitForPending(kit.keel, openRun.workflowId)).defaultAction).toBe('approve');
    return {
      guarded: await kit.keel.getResult(guardedRun.workflowId),
      open: await kit.keel.getResult(openRun.workflowId),
      history: await kit.keel.exportHistory(guardedRun.workflowId),
    };
  });
  expect(guarded.status).not.toBe('completed');
  expect(guarded.tasks.find((task) => task.id === 'publish')?.status).not.toBe('completed');
  expect(guarded.escalations).toEqual([expect.objectContaining({ kind: 'human_review', decision: 'reject', decidedBy: 'timeout', timedOut: true, note: expect.stringMatching(/a timeout rejects it/) })]);
  expect(open.status).toBe('completed');
  expect(open.escalations).toEqual([expect.objectContaining({ decision: 'approve', decidedBy: 'timeout' })]);
  if (process.env.KEEL_RECORD_HISTORIES === '1') writeFileSync(path.join(__dirname, '../histories/policy-timeout-rejects.json'), `${history}\n`);
}, 60_000);

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

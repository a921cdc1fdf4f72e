// `keel serve`'s run and decision endpoints, as a process with a worker: bearer tokens from
// KEEL_API_TOKENS (hashes only), each endpoint tried without a token, with a wrong one and with the
// wrong role; an approver's decision is recorded under the token's name, whatever the body says; a
// starter's token starts runs. OIDC JWTs, from an issuer whose JWKS the test serves, as well.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KeelClient } from '../../src/client';
import { tokenHash } from '../../src/security/api-tokens';
import { newKeyPair, parseDecisionKeys, parseSigningKey } from '../../src/security/decision-keys';
import { parseScenario } from '../../src/shared';
import { freePort, runKeel, startKeel, useWorkerProcess, waitFor } from '../helpers/cli';
import { startIssuer } from '../helpers/jwt';
import { testAddress, uniqueName } from '../helpers/temporal';

const taskQueue = uniqueName('keel-serve-api');
const secrets = { vera: 'vera-token-0123456789', alice: 'alice-token-0123456789', sam: 'sam-token-0123456789' };
const tokens = `vera:${tokenHash(secrets.vera)}:viewer,alice:${tokenHash(secrets.alice)}:approver+viewer,sam:${tokenHash(secrets.sam)}:starter`;
const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-serve-api-')), KEEL_CONFIG: '' };
// keel serve signs what its tokens' holders decide; alice@acme signs from her own terminal. The worker trusts both keys.
const serveKey = newKeyPair('serve-1');
const aliceKey = newKeyPair('alice-cli');
useWorkerProcess({ ...env, KEEL_DECISION_KEYS: `${serveKey.decisionKey},${aliceKey.decisionKey}:alice@acme` });

test('reading and deciding runs over HTTP takes a token with the right role; the decision is recorded under its name', async () => {
  const port = await freePort();
  const server = startKeel(['serve'], { ...env, KEEL_SERVE_ADDRESS: `127.0.0.1:${port}`, KEEL_API_TOKENS: tokens });
  const keel = await KeelClient.connect({ address: testAddress(), taskQueue });
  try {
    await waitFor(() => server.output().includes('keel serve'), 'keel serve to listen');
    expect(server.output()).toContain('POST /runs/:id/decisions for 3 token(s)');
    const call = async (method: string, url: string, token?: string, body?: unknown) => {
      const response = await fetch(`http://127.0.0.1:${port}${url}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const { request } = parseScenario(readFileSync('examples/escalation-approval.json', 'utf8'), 'escalation-approval.json');
    const { workflowId } = await keel.startRun({ ...request, idempotencyKey: uniqueName('http-approval') });

    // Every endpoint: no token, a wrong one, the wrong role; the words leak nothing about who exists.
    for (const [method, url] of [['GET', `/runs/${workflowId}`], ['GET', '/runs?status=awaiting_approval'], ['POST', `/runs/${workflowId}/decisions`]] as const) {
      expect(await call(method, url)).toEqual({ status: 401, body: { error: 'send Authorization: Bearer <token>' } });
      expect(await call(method, url, 'not-a-token')).toEqual({ status: 401, body: { error: 'the token is not valid' } });
    }
    expect(await call('POST', `/runs/${workflowId}/decisions`, secrets.vera, { decision: 'approve' })).toEqual({ status: 403, body: { error: 'this token may not decide runs: it needs the role approver' } });
    expect(await call('POST', `/runs/${workflowId}/decisions`, secrets.sam, { decision: 'approve' })).toMatchObject({ status: 403 });

    // A viewer reads the run and finds it waiting.
    let waiting: Array<{ workflowId: string }> = [];
    for (let tries = 0; tries < 100 && !waiting.some((run) => run.workflowId === workflowId); tries++) {
      const listed = await call('GET', '/runs?status=awaiting_approval', secrets.vera);
      expect(listed.status).toBe(200);
      waiting = listed.body as unknown as Array<{ workflowId: string }>;
      if (!waiting.some((run) => run.workflowId === workflowId)) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(waiting).toEqual(expect.arrayContaining([expect.objectContaining({ workflowId, pending: expect.objectContaining({ kind: 'human_review', choices: expect.arrayContaining([expect.objectContaining({ decision: 'approve' })]) }) })]));
    expect(await call('GET', `/runs/${workflowId}`, secrets.vera)).toMatchObject({ status: 200, body: { phase: 'awaiting_approval' } });
    expect(await call('GET', '/runs', secrets.vera)).toMatchObject({ status: 400 });
    expect(await call('GET', '/runs/no-such-run', secrets.vera)).toMatchObject({ status: 404 });

    // The approver decides; the body's "by" is not who decided, the token is.
    expect(await call('POST', `/runs/${workflowId}/decisions`, secrets.alice, '{"decision":')).toMatchObject({ status: 400, body: { error: 'the body is not valid JSON' } });
    expect(await call('POST', `/runs/${workflowId}/decisions`, secrets.alice, { decision: 'maybe' })).toMatchObject({ status: 400, body: { error: 'invalid decision' } });
    expect(await call('POST', `/runs/${workflowId}/decisions`, secrets.alice, { decision: 'approve', note: 'photos confirm it', by: 'mallory' })).toMatchObject({
      status: 200,
      body: { accepted: true, decision: 'approve', by: 'alice' },
    });
    const result = await keel.getResult(workflowId);
    expect(result.escalations).toEqual([expect.objectContaining({ decision: 'approve', decidedBy: 'alice', note: 'photos confirm it' })]);
    expect(await call('POST', `/runs/${workflowId}/decisions`, secrets.alice, { decision: 'approve' })).toMatchObject({ status: 409 });
    // Starting runs: a starter's token, not an approver's; with tokens set and no webhook secret, nothing else.
    const goal = { goal: 'say hello', tools: [], plan: { tasks: [{ id: 'hi', kind: 'llm', description: 'say hello' }], outputFrom: 'hi' }, scenario: { model: { 'task:hi': [{ text: 'hello' }] }, tools: {} } };
    expect(await call('POST', '/runs', undefined, goal)).toEqual({ status: 401, body: { error: 'send Authorization: Bearer <token> (a token with the role starter)' } });
    expect(await call('POST', '/runs', secrets.alice, goal)).toEqual({ status: 403, body: { error: 'this token may not start runs: it needs the role starter' } });
    const started = await call('POST', '/runs', secrets.sam, goal);
    expect(started.status).toBe(202);
    expect(await keel.getResult(started.body.workflowId as string)).toMatchObject({ status: 'completed', output: 'hello' });
    // No token or hash in what the server printed.
    for (const secret of [...Object.values(secrets), tokenHash(secrets.alice)]) expect(server.output()).not.toContain(secret);
  } finally {
    await keel.close();
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
  }
}, 90_000);

test('a KEEL_API_TOKENS entry that is not name:sha256:roles stops keel serve, naming the entry and not its value', async () => {
  const outcome = await runKeel(['serve'], { ...env, KEEL_SERVE_ADDRESS: `127.0.0.1:${await freePort()}`, KEEL_API_TOKENS: `ok:${tokenHash('x')}:viewer,bob:plaintext-secret:approver` });
  expect(outcome.code).toBe(2);
  expect(outcome.stderr).toContain('KEEL_API_TOKENS entry 2 (bob): the second part must be the token\'s SHA-256, 64 hex characters');
  expect(outcome.stderr).not.toContain('plaintext-secret');
});

test('OIDC tokens: checked against the issuer\'s JWKS, its issuer and audience; roles from the groups claim; expired, foreign or mis-addressed tokens refused', async () => {
  const issuer = await startIssuer();
  const port = await freePort();
  const server = startKeel(['serve'], {
    ...env,
    KEEL_SERVE_ADDRESS: `127.0.0.1:${port}`,
    KEEL_OIDC_JWKS_URL: issuer.jwksUrl,
    KEEL_OIDC_ISSUER: 'https://id.example',
    KEEL_OIDC_AUDIENCE: 'keel',
    KEEL_OIDC_ROLE_GROUPS: 'approver:finance+ops,viewer:staff+finance',
    KEEL_SIGNING_KEY: serveKey.signingKey,
  });
  const keel = await KeelClient.connect({ address: testAddress(), taskQueue });
  const jwt = (claims: Record<string, unknown>, options?: { stranger?: boolean }) => issuer.token({ iss: 'https://id.example', aud: 'keel', ...claims }, options);
  const call = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${port}${url}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  try {
    await waitFor(() => server.output().includes('keel serve'), 'keel serve to listen');
    expect(server.output()).toContain('OIDC tokens from https://id.example');
    const list = '/runs?status=awaiting_approval';
    expect(await call('GET', list, jwt({ sub: 'u1', email: 'vera@acme', groups: ['staff'] }))).toMatchObject({ status: 200 });
    expect(await call('GET', list, jwt({ email: 'vera@acme', groups: ['staff'], exp: Math.floor(Date.now() / 1000) - 60 }))).toEqual({ status: 401, body: { error: 'the token has expired' } });
    expect(await call('GET', list, jwt({ email: 'vera@acme', groups: ['staff'], aud: 'someone-else' }))).toEqual({ status: 401, body: { error: 'the token is not valid' } });
    expect(await call('GET', list, jwt({ email: 'vera@acme', groups: ['staff'], iss: 'https://evil.example' }))).toEqual({ status: 401, body: { error: 'the token is not valid' } });
    expect(await call('GET', list, jwt({ email: 'vera@acme', groups: ['staff'] }, { stranger: true }))).toEqual({ status: 401, body: { error: 'the token is not valid' } });

    const { request } = parseScenario(readFileSync('examples/escalation-approval.json', 'utf8'), 'escalation-approval.json');
    const { workflowId } = await keel.startRun({ ...request, idempotencyKey: uniqueName('oidc-approval') });
    for (let tries = 0; tries < 100 && (await keel.getPending(workflowId).catch(() => null)) === null; tries++) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await call('POST', `/runs/${workflowId}/decisions`, jwt({ email: 'vera@acme', groups: ['staff'] }), { decision: 'approve' })).toMatchObject({ status: 403 });
    expect(await call('POST', `/runs/${workflowId}/decisions`, jwt({ email: 'fiona@acme', groups: ['finance'] }), { decision: 'approve' })).toMatchObject({ status: 200, body: { by: 'fiona@acme' } });
    // Signed by the door: the run records the verified identity and the door.
    expect((await keel.getResult(workflowId)).escalations).toEqual([expect.objectContaining({ decision: 'approve', decidedBy: 'fiona@acme', door: 'keel serve', verified: true })]);

    // A policy that names a group: an approver of another group is refused by the run, with why; the group's member decides.
    const finance = await keel.startRun({ ...request, idempotencyKey: uniqueName('oidc-policy'), approvals: { approvers: { human_review: ['group:finance'] }, requireVerified: true } });
    for (let tries = 0; tries < 100 && (await keel.getPending(finance.workflowId).catch(() => null)) === null; tries++) await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await call('POST', `/runs/${finance.workflowId}/decisions`, jwt({ email: 'otto@acme', groups: ['ops'] }), { decision: 'approve' });
    expect(refused).toMatchObject({ status: 409, body: { error: expect.stringContaining('otto@acme may not decide this escalation: only group:finance may (approvals.approvers)') } });
    expect(await call('POST', `/runs/${finance.workflowId}/decisions`, jwt({ email: 'fiona@acme', groups: ['finance'] }), { decision: 'approve' })).toMatchObject({ status: 200, body: { by: 'fiona@acme', verified: true } });
    expect((await keel.getResult(finance.workflowId)).escalations).toEqual([expect.objectContaining({ decidedBy: 'fiona@acme', door: 'keel serve', verified: true })]);
    expect(server.output()).not.toContain(serveKey.signingKey.split(':')[1]!);
  } finally {
    await keel.close();
    issuer.close();
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
  }
}, 90_000);

test('`keel keys new` prints a working pair; `keel approve` with a personal KEEL_SIGNING_KEY is recorded as verified, and as no one else', async () => {
  const made = await runKeel(['keys', 'new', '--id', 'ops-1', '--identity', 'ops@acme'], env);
  expect(made.code).toBe(0);
  const signing = /^KEEL_SIGNING_KEY=(\S+)$/m.exec(made.stdout)![1]!;
  const decision = /^KEEL_DECISION_KEYS=(\S+)$/m.exec(made.stdout)![1]!;
  expect(parseSigningKey(signing)).toMatchObject({ id: 'ops-1' });
  expect(parseDecisionKeys(decision)).toEqual([{ id: 'ops-1', publicKey: expect.stringMatching(/^[0-9a-f]{64}$/), identity: 'ops@acme' }]);

  const keel = await KeelClient.connect({ address: testAddress(), taskQueue });
  try {
    const { request } = parseScenario(readFileSync('examples/escalation-approval.json', 'utf8'), 'escalation-approval.json');
    const { workflowId } = await keel.startRun({ ...request, idempotencyKey: uniqueName('cli-signed'), approvals: { requireVerified: true } });
    for (let tries = 0; tries < 100 && (await keel.getPending(workflowId).catch(() => null)) === null; tries++) await new Promise((resolve) => setTimeout(resolve, 200));
    const unsigned = await runKeel(['approve', workflowId, '--by', 'alice@acme'], env);
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toContain('this run takes only verified decisions');
    const posing = await runKeel(['approve', workflowId, '--by', 'bob@acme'], { ...env, KEEL_SIGNING_KEY: aliceKey.signingKey });
    expect(posing.code).toBe(2);
    expect(posing.stderr).toContain('key "alice-cli" signs only as alice@acme, not as bob@acme');
    const signed = await runKeel(['approve', workflowId, '--by', 'alice@acme', '--note', 'checked'], { ...env, KEEL_SIGNING_KEY: aliceKey.signingKey });
    expect(signed.stdout).toContain(`approve recorded for ${workflowId} (escalation 1) as alice@acme (verified)`);
    expect(signed.stdout + signed.stderr).not.toContain(aliceKey.signingKey.split(':')[1]!);
    expect((await keel.getResult(workflowId)).escalations).toEqual([expect.objectContaining({ decidedBy: 'alice@acme', door: 'cli', verified: true, note: 'checked' })]);
  } finally {
    await keel.close();
  }
}, 90_000);

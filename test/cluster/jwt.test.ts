// Keel against Temporal's own authorization: temporal-server (PostgreSQL) with its default JWT
// authorizer and claim mapper, its keys from a JWKS served here on loopback, tokens signed in the
// test. A token with `default:write` runs a scenario; one with `default:read` reads (`keel pending`)
// but `keel run` is refused, saying so; no token, or one signed by another key, is refused.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KeelClient } from '../../src/client';
import { loadConfig } from '../../src/config';
import { createKeelWorker } from '../../src/keel-plugin';
import { parseScenario } from '../../src/shared';
import { useClusterServer } from '../helpers/cluster';
import { startIssuer, type TestIssuer } from '../helpers/jwt';
import { runKeel, startKeel, waitFor } from '../helpers/cli';

let issuer: TestIssuer;
/** A token with Temporal's permissions claim; from a key the server does not know with `stranger`. */
const token = (permissions: string[], stranger = false) => issuer.token({ sub: 'keel-test', permissions }, { stranger });

const cluster = useClusterServer('j', async () => {
  issuer = await startIssuer();
  return { jwt: { jwksUrl: issuer.jwksUrl, adminToken: token(['system:admin', 'default:admin']) } };
});
const { suffix } = cluster;
afterAll(() => issuer?.close());

// An API key turns TLS on unless told otherwise: this server speaks plain gRPC on loopback.
const env = (key?: string) => ({
  TEMPORAL_ADDRESS: cluster.server().address,
  TEMPORAL_TLS: 'false',
  KEEL_CONFIG: '',
  KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-jwt-')),
  KEEL_TASK_QUEUE: `keel-jwt-${suffix}`,
  TEMPORAL_CONFIG_FILE: path.join(os.tmpdir(), 'keel-no-such-profile.toml'),
  ...(key ? { TEMPORAL_API_KEY: key } : {}),
});

test('a token with default:write runs a scenario: a worker and the CLI, the key from TEMPORAL_API_KEY', async () => {
  const writer = env(token(['default:write']));
  // The worker logs at DEBUG: the key must still appear nowhere in what it prints.
  const worker = startKeel(['worker'], { ...writer, KEEL_LOG_LEVEL: 'DEBUG' });
  try {
    await waitFor(() => worker.output().includes('keel worker'), 'the worker to start');
    expect(worker.output()).toMatch(/\(API key\)/);
    const run = await runKeel(['run', '--scenario', 'examples/onboarding.json', '--wait', '--json'], writer, 120_000);
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed' });
    expect(worker.output().length).toBeGreaterThan(1_000); // DEBUG lines were written
    expect(worker.output() + run.stderr + run.stdout).not.toContain(writer.TEMPORAL_API_KEY);
    expect(worker.output()).not.toContain(writer.TEMPORAL_API_KEY!.split('.')[2]); // nor its signature alone
  } finally {
    worker.child.kill('SIGINT');
    await worker.exited;
  }
}, 180_000);

test('in code: createKeelWorker and KeelClient.connect take the address, the API key and TLS, and run a scenario', async () => {
  const key = token(['default:write']);
  const taskQueue = `keel-jwt-code-${suffix}`;
  const worker = await createKeelWorker({ config: loadConfig({ KEEL_CONFIG: '', KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-jwt-code-')) }), address: cluster.server().address, apiKey: key, tls: false, taskQueue, log: () => undefined });
  const keel = await KeelClient.connect({ address: cluster.server().address, apiKey: key, tls: false, taskQueue });
  try {
    const result = await worker.runUntil(async () => keel.getResult((await keel.startRun({ ...parseScenario(readFileSync('examples/onboarding.json', 'utf8'), 'onboarding.json').request, idempotencyKey: `code-${suffix}` })).workflowId));
    expect(result.status).toBe('completed');
  } finally {
    await keel.close();
  }
  // Without the key, the same client is refused.
  await expect(KeelClient.connect({ address: cluster.server().address, tls: false, taskQueue }).then((client) => client.listPending().finally(() => client.close()))).rejects.toThrow(/are not allowed to list runs in namespace "default"/);
}, 120_000);

test('a token with default:read reads, and is refused a run with words that say why', async () => {
  const reader = env(token(['default:read']));
  const pending = await runKeel(['pending', '--json'], reader);
  expect({ code: pending.code, stderr: pending.stderr }).toEqual({ code: 0, stderr: '' });
  const run = await runKeel(['run', '--scenario', 'examples/onboarding.json'], reader);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toMatch(/refused it: the credentials \(TEMPORAL_API_KEY, or the profile's api_key or client certificate\) are not allowed to start runs in namespace "default"/);
  expect(run.stderr).not.toContain(reader.TEMPORAL_API_KEY);
}, 60_000);

test.each([
  ['no token', () => env()],
  ['a token signed by a key the server does not know', () => env(token(['default:write'], true))],
])('%s is refused', async (_name, settings) => {
  const outcome = await runKeel(['pending'], settings());
  expect(outcome.code).not.toBe(0);
  expect(outcome.stderr).toMatch(/refused it: the credentials .* (are not allowed to (list runs|connect) in namespace "default"|were not accepted)/);
}, 60_000);

// Keel against Temporal's own mutual TLS: temporal-server (PostgreSQL) whose frontend requires a
// client certificate, made here with openssl. A `keel worker` and the CLI, configured the way the
// `temporal` CLI is (TEMPORAL_TLS_* variables, or a profile in a TOML config file), run a scenario;
// without a client certificate, with a certificate from a CA the server does not trust, or trusting
// the wrong CA, the error says which setting to look at, and prints no key.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useClusterServer } from '../helpers/cluster';
import { makeCertificates, type TestCertificates } from '../helpers/certs';
import { runKeel, startKeel, waitFor } from '../helpers/cli';

let certs: TestCertificates;
const cluster = useClusterServer('m', () => {
  certs = makeCertificates();
  return { mtls: certs };
});
const { suffix } = cluster;

const base = () => ({ TEMPORAL_ADDRESS: cluster.server().address, KEEL_CONFIG: '', KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-mtls-')), TEMPORAL_CONFIG_FILE: path.join(os.tmpdir(), 'keel-no-such-profile.toml') });
const tls = (overrides: Record<string, string> = {}) => ({
  TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCertFile,
  TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKeyFile,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caFile,
  TEMPORAL_TLS_SERVER_NAME: certs.serverName,
  ...overrides,
});

test('a worker and the CLI run a scenario over mutual TLS, configured by TEMPORAL_TLS_* as the temporal CLI is', async () => {
  const env = { ...base(), ...tls(), KEEL_TASK_QUEUE: `keel-mtls-${suffix}` };
  const worker = startKeel(['worker'], env);
  try {
    await waitFor(() => worker.output().includes('keel worker'), 'the worker to start');
    expect(worker.output()).toMatch(/Temporal 127\.0\.0\.1:\d+ \(TLS\)/);
    const run = await runKeel(['run', '--scenario', 'examples/escalation-retry.json', '--id', `mtls-${suffix}`], env);
    expect(run.code).toBe(0);
    let pending = '';
    for (let tries = 0; tries < 100 && !pending.includes(`mtls-${suffix}`); tries++) {
      pending = (await runKeel(['pending'], env)).stdout;
      if (!pending.includes(`mtls-${suffix}`)) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(pending).toContain(`mtls-${suffix}`);
    expect((await runKeel(['retry', `mtls-${suffix}`, '--note', 'over mTLS', '--by', 'test'], env)).code).toBe(0);
    let state: { phase?: string; result?: { status: string; escalations: Array<{ decision: string; decidedBy: string }> } } = {};
    for (let tries = 0; tries < 100 && state.phase !== 'completed'; tries++) {
      state = JSON.parse((await runKeel(['status', `mtls-${suffix}`, '--json'], env)).stdout);
      if (state.phase !== 'completed') await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(state.result).toMatchObject({ status: 'completed', escalations: [{ decision: 'retry', decidedBy: 'test', note: 'over mTLS' }] });
  } finally {
    worker.child.kill('SIGINT');
    await worker.exited;
  }
}, 180_000);

test('a profile in the TOML config file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE) serves both the temporal CLI and Keel', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'keel-profile-')), 'temporal.toml');
  writeFileSync(
    file,
    `[profile.secure]\naddress = "${cluster.server().address}"\nnamespace = "default"\n[profile.secure.tls]\nclient_cert_path = "${certs.clientCertFile}"\nclient_key_path = "${certs.clientKeyFile}"\nserver_ca_cert_path = "${certs.caFile}"\nserver_name = "${certs.serverName}"\n`,
  );
  const { TEMPORAL_ADDRESS: _address, ...rest } = base();
  const pending = await runKeel(['pending', '--json'], { ...rest, TEMPORAL_ADDRESS: '', TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'secure' });
  expect({ code: pending.code, stderr: pending.stderr }).toEqual({ code: 0, stderr: '' });
  expect(Array.isArray(JSON.parse(pending.stdout))).toBe(true);
}, 60_000);

describe('refused, with the setting to look at, and no key printed', () => {
  const key = () => readFileSync(certs.clientKeyFile, 'utf8').split('\n')[1]!;
  test.each([
    ['no client certificate', () => ({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caFile, TEMPORAL_TLS_SERVER_NAME: certs.serverName })],
    ['a client certificate from a CA the server does not trust', () => tls({ TEMPORAL_TLS_CLIENT_CERT_PATH: certs.strangerCertFile, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.strangerKeyFile })],
    ['trusting the wrong CA', () => tls({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.strangerCaFile })],
  ])('%s', async (_name, settings) => {
    const outcome = await runKeel(['pending'], { ...base(), ...settings() });
    expect(outcome.code).not.toBe(0);
    expect(outcome.stderr).toMatch(/the TLS handshake with Temporal at 127\.0\.0\.1:\d+ failed: .* check TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
    expect(outcome.stderr + outcome.stdout).not.toContain(key());
  }, 60_000);

  test('a certificate file that is not there names its variable', async () => {
    const outcome = await runKeel(['pending'], { ...base(), ...tls({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.pem' }) });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH names \/nonexistent\/client\.pem, which cannot be read \(ENOENT\): fix the path, or unset it/);
  });
});

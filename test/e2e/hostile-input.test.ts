// What a hostile or careless operator can send, through the real `keel` command and the webhook:
// each gets a clear answer and an exit code, never a hang, a raw stack or a silent wait.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { KeelClient } from '../../src/client';
import { createIngestServer } from '../../src/ingest/server';
import type { RunState } from '../../src/shared';
import { startDevServer } from '../../src/servers/dev-server';
import { freePort, runKeel, startKeel, useWorkerProcess, waitFor } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

const deep = (levels: number): unknown => {
  let value: unknown = 'bottom';
  for (let level = 0; level < levels; level++) value = { next: value };
  return value;
};

describe('against a running worker', () => {
  const taskQueue = uniqueName('keel-hostile');
  const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-hostile-')) };
  useWorkerProcess(env);

  test('control and bidi characters from a request reach the terminal escaped; --json keeps them exact', async () => {
    const goal = 'Refund \u001b[2J\u001b[31morder\u0007 7 \u202etxt.exe';
    const id = uniqueName('escape');
    const started = await runKeel(['run', goal, '--scenario', 'examples/onboarding.json', '--id', id, '--wait'], env, 90_000);
    expect(started.code).toBe(0);
    for (const output of [started.stdout, (await runKeel(['status', id], env)).stdout, (await runKeel(['trace', id], env)).stdout]) {
      // eslint-disable-next-line no-control-regex -- the raw characters must not be there
      expect(output).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    }
    const status = await runKeel(['status', id], env);
    expect(status.stdout).toContain('Refund \\x1b[2J\\x1b[31morder\\x07 7 \\u202etxt.exe');
    const json = JSON.parse((await runKeel(['status', id, '--json'], env)).stdout) as RunState;
    expect(json.goal).toBe(goal);
  }, 120_000);

  test('a decision to a run that has ended says how it ended and who decided; exit 2', async () => {
    const id = uniqueName('ended');
    expect((await runKeel(['run', '--scenario', 'examples/escalation-approval.json', '--id', id], env)).code).toBe(0);
    const client = await KeelClient.connect({ address: testAddress(), taskQueue });
    try {
      for (let tries = 0; !(await client.getPending(id).catch(() => null)) && tries < 100; tries++) await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await runKeel(['approve', id, '--by', 'ana'], env)).code).toBe(0);
      await client.getResult(id);
    } finally {
      await client.close();
    }
    const late = await runKeel(['approve', id, '--by', 'bo'], env);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(new RegExp(`^keel: run ${id} has ended \\(completed\\) at \\S+, status completed; its last escalation \\(task \\w+\\) was decided: approve by ana: nothing was recorded`));
  }, 90_000);

  test('bad input at `keel run`: too deep, a hex budget, an invisible or huge goal; each exit 2 naming the limit', async () => {
    const tooDeep = await runKeel(['run', 'Look it up', '--input', JSON.stringify(deep(4_100))], env);
    expect(tooDeep.code).toBe(2);
    expect(tooDeep.stderr).toContain('the request is nested more than 64 levels deep');
    const hex = await runKeel(['run', 'Look it up', '--budget', '0x10'], env);
    expect(hex).toMatchObject({ code: 2 });
    expect(hex.stderr).toContain('--budget must be a decimal number of US dollars, e.g. 0.50 (got "0x10")');
    const invisible = await runKeel(['run', '\u200b\u200b\u2060'], env);
    expect(invisible.code).toBe(2);
    expect(invisible.stderr).toContain('goal has no visible characters');
    const huge = await runKeel(['run', 'x'.repeat(100_000)], env);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toContain('goal is longer than 10000 characters');
  }, 60_000);
});

describe('doors that need only the server', () => {
  const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: uniqueName('keel-doors') };

  test('a scenario file whose deadline has passed is refused before anything starts (exit 2)', async () => {
    const scenario = JSON.parse(readFileSync('examples/onboarding.json', 'utf8')) as { request: Record<string, unknown> };
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'keel-past-')), 'past.json');
    writeFileSync(file, JSON.stringify({ ...scenario, request: { ...scenario.request, deadline: '2001-01-01T00:00:00Z' } }));
    const outcome = await runKeel(['run', '--scenario', file, '--wait'], env);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('request.deadline: 2001-01-01T00:00:00Z has already passed');
  });

  test('a schedule id longer than the server takes is Temporal\'s reason and exit 2, not a stack', async () => {
    const outcome = await runKeel(['schedule', 'create', 'Say hello', '--every', '1h', '--id', 'x'.repeat(1_500)], env);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/^keel: Temporal refused it: .*length exceeds limit/i);
    expect(outcome.stderr).not.toContain('    at ');
  });

  test('`keel trace` of an unknown id is one sentence and exit 2', async () => {
    const outcome = await runKeel(['trace', 'no-such-run'], env);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toBe('keel: no run with id "no-such-run" — list recent runs in the Web UI or check the id\n');
  });
});

describe('with no worker on the run\'s task queue', () => {
  const taskQueue = uniqueName('keel-no-worker');
  const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: taskQueue };

  test('`keel approve` says at once that no worker polls, waits the time it states, then exits 3 with nothing recorded; `keel status` exits 3', async () => {
    const id = uniqueName('orphan');
    expect((await runKeel(['run', '--scenario', 'examples/escalation-approval.json', '--id', id], env)).code).toBe(0);
    const started = Date.now();
    const approve = await runKeel(['approve', id, '--wait-for-worker', '2'], env);
    expect(approve.code).toBe(3);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(approve.stderr).toContain(`no worker is polling task queue "${taskQueue}" yet, which run ${id} uses: waiting up to 2 s for one (nothing is recorded until then)`);
    expect(approve.stderr).toContain('none came within 2 s');
    const status = await runKeel(['status', id], env);
    expect(status.code).toBe(3);
    expect(status.stderr).toContain(`no worker is polling task queue "${taskQueue}", which run ${id} uses, so it cannot answer for its live state`);
    expect(status.stderr).not.toContain('    at ');
  }, 60_000);

  test('an unknown namespace is a sentence and exit 2, not a stack', async () => {
    const outcome = await runKeel(['status', 'any-run'], { ...env, TEMPORAL_NAMESPACE: uniqueName('no-such-namespace') });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/^keel: namespace "no-such-namespace-\w+" does not exist on /);
  });
});

describe('the webhook', () => {
  let app: FastifyInstance;
  let client: KeelClient;
  let url: string;
  beforeAll(async () => {
    client = await KeelClient.connect({ address: testAddress(), taskQueue: uniqueName('keel-hostile-hook') });
    app = createIngestServer({ client, maxBodyBytes: 1_048_576, dedupeWindowMs: 1_000 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/runs`;
  });
  afterAll(async () => {
    await app.close();
    await client.close();
  });
  const post = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  test('JSON nested 4,100 levels deep is a 400 naming the limit, not a 502 that senders retry', async () => {
    const response = await post(JSON.stringify({ goal: 'g', input: deep(4_100) }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { problems: string[] }).problems).toEqual([expect.stringContaining('nested more than 64 levels deep')]);
  });

  test('a deadline already past is a 400; so are a body that is not an object and a goal of zero-width marks', async () => {
    const past = await post(JSON.stringify({ goal: 'g', deadline: '2001-01-01T00:00:00Z' }));
    expect(past.status).toBe(400);
    expect(((await past.json()) as { problems: string[] }).problems[0]).toContain('deadline: 2001-01-01T00:00:00Z has already passed');
    expect((await post('[1,2]')).status).toBe(400);
    expect((await post('"a goal"')).status).toBe(400);
    expect((await post(JSON.stringify({ goal: '\u200b\u200c\u200d' }))).status).toBe(400);
  });
});

test('losing Temporal while `keel run --wait` waits ends with exit 3 and a sentence, not a raw ServiceError', async () => {
  const server = await startDevServer({
    binary: process.env.KEEL_TEST_TEMPORAL_CLI!,
    databaseFile: path.join(mkdtempSync(path.join(os.tmpdir(), 'keel-lost-')), 'temporal.db'),
    port: await freePort(),
    uiPort: await freePort(),
  });
  const env = { TEMPORAL_ADDRESS: server.address, KEEL_TASK_QUEUE: uniqueName('keel-lost') };
  try {
    // No worker: the run waits unstarted, so `--wait` is still waiting when the server goes away.
    const waiting = startKeel(['run', '--scenario', 'examples/onboarding.json', '--wait'], env);
    await waitFor(() => waiting.output().includes('no worker is polling'), 'the run to start', 30_000);
    await server.stop();
    const code = await Promise.race([waiting.exited, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 45_000))]);
    if (code === 'still waiting') waiting.child.kill('SIGKILL');
    expect(code).toBe(3);
    expect(waiting.output()).toContain(`keel: cannot reach Temporal at ${server.address}`);
    expect(waiting.output()).not.toContain('ServiceError');
  } finally {
    await server.stop();
  }
}, 90_000);

// The determinism gate: recorded histories of every example replay against the current code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { parseHistory, replayHistories, workflowIdOf, type HistorySource } from '../../src/replay';
import { runKeel, useWorkerProcess } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

const directory = path.resolve(__dirname, '../histories');
const recorded: HistorySource[] = readdirSync(directory)
  .filter((file) => file.endsWith('.json'))
  .map((file) => {
    const history = parseHistory(readFileSync(path.join(directory, file), 'utf8'), file);
    return { source: file, workflowId: workflowIdOf(history, file), history };
  });

test('the gate holds the representative runs', () => {
  const names = recorded.map((source) => source.source);
  for (const name of ['onboarding.json', 'flaky-tools.json', 'onboarding-replan.json', 'degrade.json', 'escalation-approval.json', 'escalation-rejected.json', 'pipeline.json', 'ticket-triage.json']) {
    expect(names).toContain(name);
  }
});

test('every recorded history replays against the current workflow code', async () => {
  const outcomes = await replayHistories(recorded, { workflowBundle: { codePath: process.env.KEEL_TEST_WORKFLOW_BUNDLE! } });
  expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
  expect(outcomes).toHaveLength(recorded.length);
}, 120_000);

test('the gate catches a deliberately changed workflow', async () => {
  const changed = await bundleWorkflowCode({
    workflowsPath: require.resolve('../fixtures/changed-workflows'),
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never,
  });
  const outcomes = await replayHistories(recorded.slice(0, 2), { workflowBundle: { code: changed.code } });
  expect(outcomes).toHaveLength(2);
  for (const outcome of outcomes) {
    expect(outcome).toMatchObject({ ok: false, nondeterministic: true });
    expect(outcome.message).toMatch(/nondetermin/i);
    // The changed code schedules an activity where the history recorded the KeelStatus upsert.
    expect(outcome).toMatchObject({ eventId: 5, recorded: 'UpsertWorkflowSearchAttributes', codeDid: 'Activity' });
  }
}, 120_000);

describe('keel export and keel replay', () => {
  const taskQueue = uniqueName('keel-replay');
  const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-replay-')) };
  useWorkerProcess(env);

  test('an exported run, and the Temporal CLI export of it, both replay; a broken file is reported', async () => {
    const id = uniqueName('export');
    expect((await runKeel(['run', '--scenario', 'examples/flaky-tools.json', '--id', id, '--wait', '--json'], env)).code).toBe(0);
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'keel-export-'));
    const ours = path.join(scratch, 'keel.json');
    const exported = await runKeel(['export', id, '-o', ours], env);
    expect(exported.code).toBe(0);
    const theirs = path.join(scratch, 'temporal.json');
    writeFileSync(theirs, execFileSync(process.env.KEEL_TEST_TEMPORAL_CLI!, ['workflow', 'show', '--workflow-id', id, '--address', testAddress(), '--output', 'json']));
    const replayed = await runKeel(['replay', ours, theirs, id], env, 120_000);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain(`ok                ${ours}`);
    expect(replayed.stdout).toContain(`ok                ${theirs}`);
    expect(replayed.stdout).toContain(`ok                ${id}`);

    const traced = await runKeel(['trace', id, '--html', path.join(scratch, 'trace.html')], env);
    expect(traced.code).toBe(0);
    expect(traced.stdout).toMatch(/crm · crm_lookup\s+│.*│.*completed · 3 attempts/);
    expect(traced.stdout).toContain('critical path: ');
    expect(readFileSync(path.join(scratch, 'trace.html'), 'utf8')).toContain('<svg');

    const broken = path.join(scratch, 'broken.json');
    writeFileSync(broken, '{"events": "nope"}');
    const refused = await runKeel(['replay', broken], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`${broken} is not an exported event history`);
  }, 180_000);
});

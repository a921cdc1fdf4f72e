// The determinism gate: recorded histories of every example replay against the current code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { parseHistory, replayHistories, workflowIdOf, type HistorySource } from '../../src/trace/replay';
import { runKeel, useWorkerProcess } from '../helpers/cli';
import { quietLogger, testAddress, uniqueName } from '../helpers/temporal';

const directory = path.resolve(__dirname, '../histories');
const recorded: HistorySource[] = readdirSync(directory)
  .filter((file) => file.endsWith('.json'))
  .map((file) => {
    const history = parseHistory(readFileSync(path.join(directory, file), 'utf8'), file);
    return { source: file, workflowId: workflowIdOf(history, file), history };
  });

test('the gate holds the representative runs', () => {
  const names = recorded.map((source) => source.source);
  for (const name of ['onboarding.json', 'flaky-tools.json', 'onboarding-replan.json', 'degrade.json', 'escalation-approval.json', 'escalation-rejected.json', 'pipeline.json', 'ticket-triage.json', 'support-agent.json']) {
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
    logger: quietLogger,
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
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`invalid           ${broken}: `);

    const unknown = await runKeel(['export', uniqueName('no-such-run')], env);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^keel: no run with id "no-such-run-[^"]+" — /);
    expect(unknown.stderr).not.toContain('    at ');
  }, 180_000);

  test('a mistyped history path is named as a missing file by keel trace and keel replay, with a server and without', async () => {
    const missing = path.join(os.tmpdir(), `${uniqueName('no-such-history')}.json`);
    const fix = "give the path of a history that `keel export ID --output FILE` wrote, or a run's workflow id";
    const traced = await runKeel(['trace', missing], env);
    expect(traced).toMatchObject({ code: 2, stdout: '', stderr: `keel: no file ${missing}, and no run has that id: ${fix}\n` });
    const good = path.resolve(__dirname, '../histories/degrade.json');
    const replayed = await runKeel(['replay', missing, good], env, 90_000);
    expect(replayed.code).toBe(1);
    expect(replayed.stdout).toContain(`invalid           ${missing}: no file ${missing}, and no run has that id: ${fix}`);
    expect(replayed.stdout).toContain(`ok                ${good}`);
    // An id that is not a path keeps the plain answer.
    expect((await runKeel(['trace', 'no-such-run'], env)).stderr).toMatch(/^keel: no run with id "no-such-run" — /);
    const noServer = await runKeel(['trace', missing], { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toBe(`keel: no file ${missing} (and Temporal at 127.0.0.1:1, asked for a run of that id, did not answer): ${fix}\n`);
  }, 180_000);
});

describe('a history that is not whole is reported, and the batch goes on', () => {
  const good = path.resolve(__dirname, '../histories/degrade.json');
  const events = (JSON.parse(readFileSync(good, 'utf8')) as { events: Array<{ eventId: string }> }).events;
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'keel-bad-history-'));
  const write = (name: string, text: string) => {
    const file = path.join(scratch, name);
    writeFileSync(file, text);
    return file;
  };
  // Each of these made the SDK's replayer stop answering (first event gone, an event in the middle gone).
  const noStart = write('no-start.json', JSON.stringify({ events: events.slice(1) }));
  const gap = write('gap.json', JSON.stringify({ events: [...events.slice(0, 3), ...events.slice(4)] }));
  const empty = write('empty.json', '');
  const noEvents = write('no-events.json', '{"events":[]}');
  const array = write('array.json', '[]');

  test('keel replay: one line per bad file, the good ones replay, exit 1, and it ends', async () => {
    const replayed = await runKeel(['replay', noStart, gap, empty, noEvents, array, good], {}, 90_000);
    expect(replayed.code).toBe(1);
    expect(replayed.stdout).toContain(`invalid           ${noStart}: its first event is EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, not the run's start`);
    expect(replayed.stdout).toContain(`invalid           ${gap}: event 4 is missing or out of place (found event 5 there)`);
    expect(replayed.stdout).toContain(`invalid           ${empty}: the file is empty`);
    expect(replayed.stdout).toContain(`invalid           ${noEvents}: it has no events`);
    expect(replayed.stdout).toContain(`invalid           ${array}: `);
    expect(replayed.stdout).toContain(`ok                ${good}`);
    expect(replayed.stderr).toContain('1 of 6 histories replayed cleanly');
    // Its replayer is shut down before the summary: an open one held the process 15 s to over 90 s after it.
    expect(replayed.exitAfterLastOutputMs).toBeLessThan(5_000);
  }, 120_000);

  test('keel trace of an empty history is bad input (exit 2), not "unknown · running"', async () => {
    for (const file of [empty, noEvents, array]) {
      const traced = await runKeel(['trace', file], {});
      expect(traced.code).toBe(2);
      expect(traced.stdout).not.toContain('unknown · running');
      expect(traced.stderr).toContain(`keel: ${file} is not a valid event history`);
    }
  }, 60_000);

  test('a replayer that stops answering is reported, and the histories after it still replay', async () => {
    const slow = recorded[0]!;
    const outcomes = await replayHistories(recorded.slice(0, 3), { workflowBundle: { codePath: process.env.KEEL_TEST_WORKFLOW_BUNDLE! } }, (history) => (history === slow.history ? 1 : 60_000));
    expect(outcomes.stuck).toBe(true);
    expect(outcomes.map((outcome) => [outcome.source, outcome.ok])).toEqual(recorded.slice(0, 3).map((source, index) => [source.source, index > 0]));
    expect(outcomes[0]!.message).toContain('the replayer stopped answering on this history');
  }, 120_000);
});

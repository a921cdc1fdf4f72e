// `keel schedule` as a user runs it: a schedule starts runs that a worker completes; list shows it
// with its latest run; delete removes it; bad specs are refused with the reason.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KeelClient } from '../../src/client';
import { runKeel, useWorkerProcess } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

const taskQueue = uniqueName('keel-schedule');
const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-schedule-')) };
useWorkerProcess(env);

interface Listed {
  scheduleId: string;
  spec: string;
  goal: string;
  nextRuns: string[];
  recentRuns: Array<{ workflowId: string }>;
}

test('create → it fires and the run completes → list shows it → delete', async () => {
  const id = uniqueName('nightly');
  const created = await runKeel(['schedule', 'create', '--every', '2s', '--scenario', 'examples/flaky-tools.json', '--id', id], env);
  expect(created.code).toBe(0);
  expect(created.stdout).toMatch(new RegExp(`^created schedule ${id} \\(every 2s\\): `));

  const listed = async () => (JSON.parse((await runKeel(['schedule', 'list', '--json'], env)).stdout) as Listed[]).find((schedule) => schedule.scheduleId === id);
  let fired: Listed | undefined;
  const deadline = Date.now() + 30_000;
  while (!(fired = await listed())?.recentRuns.length) {
    if (Date.now() > deadline) throw new Error('the schedule did not fire in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  expect(fired).toMatchObject({ spec: 'every 2s', goal: expect.any(String) });
  expect(fired.nextRuns.length).toBeGreaterThan(0);
  const keel = await KeelClient.connect({ address: testAddress(), taskQueue });
  try {
    const result = await keel.getResult(fired.recentRuns[0]!.workflowId);
    expect(result.status).toBe('completed');
  } finally {
    await keel.close();
  }
  const human = await runKeel(['schedule', 'list'], env);
  expect(human.stdout).toContain(`${id}  every 2s`);

  expect((await runKeel(['schedule', 'delete', id], env)).code).toBe(0);
  expect(await listed()).toBeUndefined();
  const again = await runKeel(['schedule', 'delete', id], env);
  expect(again.code).toBe(2);
  expect(again.stderr).toContain(`no schedule named "${id}"`);
}, 90_000);

test('a schedule needs exactly one of --cron and --every, and a spec Temporal accepts', async () => {
  const both = await runKeel(['schedule', 'create', '--cron', '0 9 * * 1', '--every', '1h', '--scenario', 'examples/onboarding.json'], env);
  expect(both.code).toBe(2);
  expect(both.stderr).toContain('give exactly one of --cron');
  const badCron = await runKeel(['schedule', 'create', '--cron', 'every tuesday', '--scenario', 'examples/onboarding.json', '--id', uniqueName('bad')], env);
  expect(badCron.code).toBe(2);
  expect(badCron.stderr).toContain('Temporal refused the schedule: CronString does not have 5-7 fields');
  const badInterval = await runKeel(['schedule', 'create', '--every', 'soon', '--scenario', 'examples/onboarding.json', '--id', uniqueName('bad')], env);
  expect(badInterval.code).toBe(2);
  expect(badInterval.stderr).toContain('Temporal refused the schedule');
  const generated = await runKeel(['schedule', 'create', '--cron', '0 9 * * 1', '--scenario', 'examples/onboarding.json'], env);
  expect(generated.code).toBe(0);
  const scheduleId = /^created schedule (\S+) \(cron 0 9 \* \* 1\)/.exec(generated.stdout)![1]!;
  expect((await runKeel(['schedule', 'delete', scheduleId], env)).code).toBe(0);
});

// The README's short tour, command by command as a reader types it, against the test dev server
// and a `keel worker` process: if a command there stops working, this fails.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runKeel, useWorkerProcess } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

/** The `npx keel ...` lines of the README's tour, each split into words as a shell would. */
function tourCommands(readme: string): string[][] {
  const tour = /## A short tour[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!tour) throw new Error('the README has no "A short tour" section with a sh block');
  return tour
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.startsWith('npx keel '))
    .map((line) => shellWords(line).slice(2));
}

function shellWords(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? match[3]!);
}

describe('the README tour', () => {
  const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: uniqueName('keel-tour'), KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-tour-')) };
  useWorkerProcess(env);
  const commands = tourCommands(readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8'));

  test('has the commands it promises', () => {
    expect(commands.length).toBeGreaterThanOrEqual(8);
    expect(commands.map((words) => words[0])).toEqual(expect.arrayContaining(['run', 'status', 'pending', 'approve']));
  });

  test('every command works as written, in order', async () => {
    for (const words of commands) {
      if (words[0] === 'approve') {
        // A reader approves once `keel pending` lists the run; so does the test.
        const id = words[1]!;
        for (let tries = 0; tries < 100 && !(await runKeel(['pending'], env)).stdout.includes(id); tries++) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const outcome = await runKeel(words, env, 120_000);
      if (outcome.code !== 0) throw new Error(`keel ${words.join(' ')} exited ${outcome.code}:\n${outcome.stdout}\n${outcome.stderr}`);
      if (words.includes('--json')) expect(JSON.parse(outcome.stdout)).toMatchObject({ status: 'completed' });
      if (words.includes('--wait') && !words.includes('--json')) expect(outcome.stdout).toMatch(/Result · (completed|partial)/);
      if (words[0] === 'pending') expect(outcome.stdout).toContain('refund-1');
      if (words[0] === 'approve') expect(outcome.stdout).toContain('approve recorded for refund-1');
    }
  }, 300_000);
});

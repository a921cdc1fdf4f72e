// One place each: a decision's meaning (decisions.ts), a task's state (task-board.ts), a model
// call's reserve → call → settle (model-call.ts). The tests hold the places, and read the rest of
// the workflow room to show that nothing else does their work.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DecisionKind, Task } from '../../src/shared';
import { decisionKinds, EscalationKind } from '../../src/shared/escalation-types';
import { choicesFor, outcomeOf, type Escalation } from '../../src/workflows/decisions';
import type { DecisionTaken } from '../../src/workflows/escalation';
import { TaskBoard } from '../../src/workflows/task-board';

const workflowsDirectory = path.resolve(__dirname, '../../src/workflows');
const workflowSources = readdirSync(workflowsDirectory)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => ({ file, text: readFileSync(path.join(workflowsDirectory, file), 'utf8') }));

const task = (id: string, critical = true): Task => ({ id, kind: 'tool', tool: 'crm', description: `${id} runs crm`, dependsOn: [], critical });
const decided = (decision: DecisionKind, extra: Partial<DecisionTaken> = {}): DecisionTaken => ({ decision, by: 'ana', timedOut: false, ...extra });

const everyEscalation: Escalation[] = [
  { kind: 'human_review', task: task('review', false) },
  { kind: 'critical_verdict', task: task('t1', false) },
  { kind: 'task_failed', task: task('t1') },
  { kind: 'no_consensus', task: task('t1'), firstAnswer: '42' },
  { kind: 'budget_exhausted', task: task('t1'), beforeStart: false, budgetUsd: 1, raiseUsd: 1 },
  { kind: 'budget_exhausted', task: task('t1'), beforeStart: true, budgetUsd: 1, raiseUsd: 1 },
  { kind: 'replans_exhausted', replans: 2 },
  { kind: 'planning_failed', failure: 'planning failed: permanent: no provider' },
  { kind: 'tool_approval', task: task('t1'), tool: 'refund', input: { cents: 500 }, inLoop: true },
];

describe('decisions', () => {
  test('every escalation kind has its choices, and every offered decision has an outcome', () => {
    expect(new Set(everyEscalation.map((escalation) => escalation.kind))).toEqual(new Set(Object.values(EscalationKind)));
    for (const escalation of everyEscalation) {
      const choices = choicesFor(escalation);
      expect(choices.length).toBeGreaterThanOrEqual(2);
      expect(choices.map((choice) => choice.decision)).toContain('reject');
      for (const choice of choices) {
        expect(decisionKinds).toContain(choice.decision);
        expect(choice.effect.length).toBeGreaterThan(5);
        expect(outcomeOf(escalation, decided(choice.decision)).type).toBeDefined();
      }
    }
  });

  test('approve means what the escalation is about: accept, waive, raise the budget or replan once more', () => {
    const [review, verdict, failed, consensus, budget, , replans] = everyEscalation;
    expect(outcomeOf(review!, decided('approve'))).toEqual({ type: 'accept' });
    expect(outcomeOf(verdict!, decided('approve'))).toEqual({ type: 'accept' });
    expect(outcomeOf(failed!, decided('approve'))).toEqual({ type: 'waive' });
    expect(outcomeOf(consensus!, decided('approve'))).toEqual({ type: 'accept' });
    expect(outcomeOf(budget!, decided('approve'))).toEqual({ type: 'raise_budget', amountUsd: 1 });
    expect(outcomeOf(budget!, decided('approve', { budgetUsd: 2.5 }))).toEqual({ type: 'raise_budget', amountUsd: 2.5 });
    expect(outcomeOf(replans!, decided('approve', { guidance: 'use the id' }))).toEqual({ type: 'replan', guidance: 'use the id' });
    const approval = everyEscalation.at(-1)!;
    expect(outcomeOf(approval, decided('approve'))).toEqual({ type: 'accept' });
    expect(outcomeOf(approval, decided('approve', { input: { cents: 300 } }))).toEqual({ type: 'accept', input: { cents: 300 } });
    expect(outcomeOf(approval, decided('reject', { note: 'too much' }))).toEqual({ type: 'refuse', reason: 'ana did not approve this call of refund: too much' });
  });

  test('reject ends the run with the status and reason the escalation kind gives', () => {
    const [review, , , , budget, budgetBefore, replans, planning] = everyEscalation;
    expect(outcomeOf(review!, decided('reject', { note: 'no' }))).toEqual({ type: 'halt', status: 'rejected', reason: 'ana rejected the run at task review: no' });
    expect(outcomeOf(budget!, decided('reject'))).toEqual({ type: 'halt', status: 'budget_exhausted', reason: 'budget exhausted at task t1; ana rejected raising it' });
    expect(outcomeOf(budgetBefore!, decided('reject'))).toMatchObject({ status: 'budget_exhausted', reason: 'the budget of $1 was spent before task t1; ana did not raise it' });
    expect(outcomeOf(replans!, decided('reject'))).toMatchObject({ status: 'rejected', reason: 'ana rejected the run after 2 replan(s)' });
    expect(outcomeOf(planning!, decided('reject'))).toMatchObject({ status: 'failed', reason: 'planning failed: permanent: no provider; ana ended the run' });
  });

  test('skip is offered only for a task that is not critical', () => {
    expect(choicesFor({ kind: 'human_review', task: task('r', true) }).map((choice) => choice.decision)).not.toContain('skip');
    expect(choicesFor({ kind: 'human_review', task: task('r', false) }).map((choice) => choice.decision)).toContain('skip');
  });

  test('no other workflow file reads what a decision kind means', () => {
    const readers = workflowSources.filter(({ file, text }) => file !== 'decisions.ts' && /\.decision\s*[!=]==\s*'|switch \([\w.]*\.decision\)/.test(text));
    expect(readers.map(({ file }) => file)).toEqual([]);
  });
});

describe('the task board', () => {
  const board = () => {
    const tasks = new TaskBoard();
    tasks.adoptPlan(1, [task('a'), task('b')]);
    return tasks;
  };

  test('a task goes pending → running → failed → running → completed, and the board reports it', () => {
    const tasks = board();
    tasks.start('a');
    tasks.fail('a', { kind: 'transient', message: 'HTTP 502' });
    tasks.recordAttempts('a', { attempts: 4, costUsd: 0.01 });
    tasks.start('a');
    tasks.complete('a', { id: 1 });
    expect(tasks.get('a')).toMatchObject({ status: 'completed', output: { id: 1 }, attempts: 4, costUsd: 0.01 });
    expect(tasks.get('a').error).toBeUndefined();
    expect(tasks.isSatisfied('a')).toBe(true);
  });

  test('illegal transitions are refused, naming the task and the statuses allowed', () => {
    const tasks = board();
    expect(() => tasks.complete('a', 'x')).toThrow('task "a" cannot complete from pending (only from running, failed)');
    tasks.start('a');
    tasks.complete('a', 'x');
    expect(() => tasks.start('a')).toThrow('cannot start from completed');
    expect(() => tasks.cancel('a', { kind: 'cancelled', message: 'late' })).toThrow('cannot cancel from completed');
    expect(() => tasks.waive('b', 'ana')).toThrow('cannot waive from pending');
    expect(() => tasks.get('zzz')).toThrow('no task "zzz"');
  });

  test('a waived task is skipped but satisfies its dependents; a new plan supersedes pending work', () => {
    const tasks = board();
    tasks.start('a');
    tasks.fail('a', { kind: 'permanent', message: 'HTTP 404' });
    tasks.waive('a', 'ana');
    expect(tasks.get('a')).toMatchObject({ status: 'skipped', waived: true, error: { kind: 'permanent', message: 'waived by ana: HTTP 404' } });
    expect(tasks.isSatisfied('a')).toBe(true);
    tasks.adoptPlan(2, [task('c')]);
    expect(tasks.allEntries.map((entry) => [entry.task.id, entry.plan, entry.status])).toEqual([
      ['a', 1, 'skipped'],
      ['b', 1, 'cancelled'],
      ['c', 2, 'pending'],
    ]);
    expect(tasks.currentEntries.map((entry) => entry.task.id)).toEqual(['a', 'c']);
  });

  test('a snapshot restores to the same board (continue-as-new)', () => {
    const tasks = board();
    tasks.start('a');
    tasks.complete('a', 'done');
    const copy = new TaskBoard();
    copy.restore(JSON.parse(JSON.stringify(tasks.snapshot())));
    expect(copy.currentEntries).toEqual(tasks.currentEntries);
    expect(copy.isSatisfied('a')).toBe(true);
  });

  test('no other workflow file assigns a task status or error', () => {
    const writers = workflowSources.filter(({ file, text }) => file !== 'task-board.ts' && /\.(status|error|waived)\s*(=[^=]|\+=)|\bentry\.\w+\s*(=[^=]|\+=)/.test(text));
    expect(writers.map(({ file }) => file)).toEqual([]);
  });
});

test('every model call reserves, consumes and settles in model-call.ts alone', () => {
  const settlers = workflowSources.filter(({ file, text }) => file !== 'model-call.ts' && /ledger\.(settle|charge)\(|record\.consume\(|(?<!function )summarizeFailure\(/.test(text));
  expect(settlers.map(({ file }) => file)).toEqual([]);
  const callers = workflowSources.filter(({ text }) => /\bcallModel\(/.test(text)).map(({ file }) => file);
  expect(callers.sort()).toEqual(['agent-loop.ts', 'agent-run.ts', 'evaluation.ts', 'planner.ts', 'task-runner.ts']);
});

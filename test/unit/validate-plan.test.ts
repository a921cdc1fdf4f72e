import { findCycle, topologicalOrder, validatePlan, type PlanLimits } from '../../src/workflows/plan';
import { TaskSchema, type TaskDraft } from '../../src/shared';

const limits: PlanLimits = { allowedTools: ['search', 'email'], knownTools: ['search', 'email', 'secret'], maxTasks: 5, remainingUsd: 1 };
const tool = (id: string, name: string, dependsOn: string[] = [], extra: Partial<TaskDraft> = {}): TaskDraft => ({
  id, kind: 'tool', tool: name, description: id, dependsOn, ...extra,
});
const problemsOf = (tasks: TaskDraft[], overrides: Partial<PlanLimits> = {}) => {
  const validation = validatePlan({ tasks }, { ...limits, ...overrides });
  return validation.ok ? [] : validation.problems;
};

test('a valid diamond is accepted and ordered after its dependencies', () => {
  const validation = validatePlan({ tasks: [tool('d', 'email', ['b', 'c']), tool('b', 'search', ['a']), tool('c', 'search', ['a']), tool('a', 'search')] }, limits);
  expect(validation.ok).toBe(true);
  if (validation.ok) expect(validation.order.map((task) => task.id)).toEqual(['a', 'b', 'c', 'd']);
});

test('a cycle is rejected and named', () => {
  expect(problemsOf([tool('a', 'search', ['c']), tool('b', 'search', ['a']), tool('c', 'search', ['b'])])).toEqual([
    'dependency cycle: a → b → c → a',
  ]);
  expect(problemsOf([tool('self', 'search', ['self'])])).toEqual(['dependency cycle: self → self']);
});

test('a missing dependency is rejected, naming both tasks', () => {
  expect(problemsOf([tool('a', 'search', ['ghost'])])).toEqual(['task "a" depends on "ghost", which is not in the plan']);
});

test('a duplicate id is rejected', () => {
  expect(problemsOf([tool('a', 'search'), tool('a', 'email')])).toEqual(['duplicate task id "a"']);
});

test('an unknown tool is rejected, listing the known ones', () => {
  expect(problemsOf([tool('a', 'teleport')])).toEqual(['task "a" uses unknown tool "teleport" (known: search, email, secret)']);
});

test('a known tool the request does not allow is rejected', () => {
  expect(problemsOf([tool('a', 'secret')])).toEqual(['task "a" uses tool "secret", which the request does not allow (allowed: search, email)']);
});

test('an unknown fallback tool is rejected too', () => {
  expect(problemsOf([tool('a', 'search', [], { fallbackTool: 'nope' })])).toEqual([expect.stringContaining('unknown tool "nope"')]);
});

test('too many tasks are rejected with the count and the limit', () => {
  const tasks = Array.from({ length: 6 }, (_, index) => tool(`t${index}`, 'search'));
  expect(problemsOf(tasks)).toEqual(['the plan has 6 tasks, more than maxTasks (5)']);
});

test('an estimate over the budget left is rejected with both figures', () => {
  const tasks = [tool('a', 'search', [], { estimatedCostUsd: 0.7 }), tool('b', 'search', [], { estimatedCostUsd: 0.4 })];
  expect(problemsOf(tasks, { remainingUsd: 1 })).toEqual(['estimated cost $1.1000 exceeds the budget left ($1.0000)']);
});

test('schema problems are listed with their paths', () => {
  const validation = validatePlan({ tasks: [{ id: 'a', kind: 'tool', description: 'x' }, { id: 'bad id!', kind: 'llm', description: '' }] }, limits);
  expect(validation.ok).toBe(false);
  if (!validation.ok) {
    expect(validation.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('tasks.0.tool: task a is a tool task but names no tool'),
        expect.stringContaining('tasks.1.id'),
        expect.stringContaining('tasks.1.description'),
      ]),
    );
  }
  expect(validatePlan({ tasks: [] }, limits)).toEqual({ ok: false, problems: ['plan schema: tasks: a plan needs at least one task'] });
});

test('several problems are all reported at once', () => {
  expect(problemsOf([tool('a', 'teleport', ['b']), tool('b', 'search', ['a']), tool('b', 'search')])).toHaveLength(3);
});

test('findCycle and topologicalOrder agree on acyclic plans', () => {
  const tasks = [tool('b', 'search', ['a']), tool('a', 'search')].map((task) => TaskSchema.parse(task));
  expect(findCycle(tasks)).toBeUndefined();
  expect(topologicalOrder(tasks).map((task) => task.id)).toEqual(['a', 'b']);
});

test('with outputFrom, a plan must have the answer task, unless an earlier plan completed it', () => {
  expect(problemsOf([tool('a', 'search')], { answerTaskId: 'report' })).toEqual([`the plan has no task "report", whose output is the run's answer (outputFrom): add it`]);
  expect(problemsOf([tool('a', 'search'), tool('report', 'email', ['a'])], { answerTaskId: 'report' })).toEqual([]);
  expect(problemsOf([tool('b', 'search', ['report'])], { answerTaskId: 'report', completedTaskIds: ['report'] })).toEqual([]);
});

test("a plan's own outputFrom must name one of its tasks (or a completed one), and no other than the request's", () => {
  const plan = (outputFrom: string, overrides: Partial<PlanLimits> = {}) => {
    const validation = validatePlan({ tasks: [tool('a', 'search'), tool('report', 'email', ['a'])], outputFrom }, { ...limits, ...overrides });
    return validation.ok ? validation.plan.outputFrom : validation.problems;
  };
  expect(plan('report')).toBe('report');
  expect(plan('earlier', { completedTaskIds: ['earlier'] })).toBe('earlier');
  expect(plan('summary')).toEqual([
    'outputFrom names task "summary", which the plan does not have: name one of its tasks, or leave outputFrom out to have the answer written from all results',
  ]);
  expect(plan('report', { answerTaskId: 'report' })).toBe('report');
  expect(plan('a', { answerTaskId: 'report' })).toEqual([`outputFrom names task "a", but the run's answer is task "report" (the request's outputFrom): leave outputFrom out`]);
  expect(validatePlan({ tasks: [tool('a', 'search')], outputFrom: 'has space' }, limits)).toEqual({
    ok: false,
    problems: ['plan schema: outputFrom: outputFrom names a task id: 1-64 letters, digits, "_", "." or "-"'],
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidScenarioError, parseScenario, scriptedEntryAt, ScriptSchema } from '../../src/shared';

const examples = path.resolve(__dirname, '../../examples');

test.each(readdirSync(examples).filter((file) => file.endsWith('.json')))('example %s is a valid scenario', (file) => {
  const { request } = parseScenario(readFileSync(path.join(examples, file), 'utf8'), file);
  expect(request.goal.length).toBeGreaterThan(0);
  // A plan comes from the scripted planner or with the request itself; an agent run scripts its steps.
  const agentSteps = request.agent ? (request.scenario?.model['step:agent']?.length ?? 0) : 0;
  expect((request.scenario?.model.plan?.length ?? 0) + (request.plan?.tasks.length ?? 0) + agentSteps).toBeGreaterThan(0);
});

test('a scenario whose outputFrom names no task of its plan is refused, naming the tasks it has', () => {
  const text = JSON.stringify({
    name: 'pipeline',
    request: { goal: 'g', plan: { tasks: [{ id: 'fetch', kind: 'llm', description: 'fetch it' }] }, outputFrom: 'answer' },
    model: {},
  });
  expect(() => parseScenario(text, 'pipeline.json')).toThrow(
    'scenario pipeline.json is not valid:\n  - request.outputFrom: the plan has no task "answer" (its tasks: fetch): name the task whose output is the run\'s answer',
  );
  expect(parseScenario(text.replace('"answer"', '"fetch"'), 'pipeline.json').request.outputFrom).toBe('fetch');
});

test('entries are consumed in order and the last one repeats', () => {
  expect([0, 1, 2, 5].map((index) => scriptedEntryAt(['a', 'b', 'c'], index))).toEqual(['a', 'b', 'c', 'c']);
});

test('fail entries accept only the contract kinds', () => {
  expect(ScriptSchema.safeParse({ tools: { x: [{ fail: 'transient', retryAfterMs: 10 }] } }).success).toBe(true);
  expect(ScriptSchema.safeParse({ tools: { x: [{ fail: 'gremlins' }] } }).success).toBe(false);
  expect(ScriptSchema.safeParse({ model: { plan: [{ fail: 'meltdown' }] } }).success).toBe(false);
  expect(ScriptSchema.safeParse({ model: { plan: [] } }).success).toBe(false);
});

test('a broken scenario file is rejected with every reason and the file name', () => {
  const attempt = () => parseScenario(JSON.stringify({ name: 'x', request: { goal: '', budgetUsd: 0 }, model: { plan: [{ fail: 'nope' }] }, extra: 1 }), 'bad.json');
  expect(attempt).toThrow(InvalidScenarioError);
  try {
    attempt();
  } catch (error) {
    const problems = (error as InvalidScenarioError).problems.join('\n');
    expect((error as Error).message).toContain('bad.json');
    expect(problems).toMatch(/request\.goal/);
    expect(problems).toMatch(/request\.budgetUsd/);
    expect(problems).toMatch(/model\.plan\.0/);
    expect(problems).toMatch(/extra/);
  }
  expect(() => parseScenario('{ nope', 'broken.json')).toThrow(/not valid JSON/);
});

test('a script nested in the file\'s request is refused with where it goes instead', () => {
  const file = (request: Record<string, unknown>) => JSON.stringify({ name: 'nested', request: { goal: 'g', ...request }, model: { plan: [{ tasks: [] }] } });
  const scenario = { model: { plan: [{ tasks: [] }] }, tools: {} };
  expect(() => parseScenario(file({ scenario }), 'nested.json')).toThrow(
    'scenario nested.json is not valid:\n  - request.scenario: a scenario file keeps its script at the top level: move request.scenario.model to "model" and request.scenario.tools to "tools"',
  );
  // Other unknown keys are still named, and other problems still listed.
  expect(() => parseScenario(file({ scenario, colour: 'red', budgetUsd: -1 }), 'nested.json')).toThrow(/request also has unknown key\(s\) "colour"[\s\S]*request\.budgetUsd/);
});

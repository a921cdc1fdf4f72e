import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidScenarioError, parseScenario, scriptedEntryAt, ScriptSchema } from '../../src/shared';

const examples = path.resolve(__dirname, '../../examples');

test.each(readdirSync(examples).filter((file) => file.endsWith('.json')))('example %s is a valid scenario', (file) => {
  const { request } = parseScenario(readFileSync(path.join(examples, file), 'utf8'), file);
  expect(request.goal.length).toBeGreaterThan(0);
  expect(request.scenario?.model.plan?.length).toBeGreaterThan(0);
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

// The state query always fits a reply, however much the run has gathered.
import type { Task } from '../../src/shared';
import { RunRecord, stateReplyLimits } from '../../src/workflows/run-record';

const task = (id: string, description: string): Task => ({ id, kind: 'tool', tool: 'crm', description, dependsOn: [], critical: true });

test('a state too large for a query reply comes back with its long texts cut, and says so', () => {
  const record = new RunRecord('wf', 'run', 'goal', 1, undefined);
  const order = Array.from({ length: 40 }, (_unused, index) => task(`t${index}`, `${index} `.padEnd(60_000, 'x')));
  record.recordPlan({ tasks: order }, 'initial plan', { accepted: true, order });
  const state = record.state();
  expect(state.truncated).toBe(true);
  expect(JSON.stringify(state).length).toBeLessThan(stateReplyLimits.bytes);
  expect(state.tasks).toHaveLength(40);
  expect(state.tasks[39]!.description).toMatch(/^39 x+… \(60000 characters\)$/);
});

test('a state that fits is returned whole', () => {
  const record = new RunRecord('wf', 'run', 'goal', 1, undefined);
  const order = [task('a', 'look it up')];
  record.recordPlan({ tasks: order }, 'initial plan', { accepted: true, order });
  const state = record.state();
  expect(state.truncated).toBeUndefined();
  expect(state.tasks[0]!.description).toBe('look it up');
});

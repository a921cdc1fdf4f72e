// What the planner is told: with outputFrom, that the plan must carry the answer task; without, that it may name one.
import { plannerPrompt, plannerSystem } from '../../src/activities/prompts';
import type { PlanInput } from '../../src/shared';

const input: PlanInput = { goal: 'score the lead', input: {}, allowedTools: ['score'], maxTasks: 5, remainingUsd: 1, reservedUsd: 0.5, scriptedTools: [] };

test('the planner is told which task id must hold the answer, and only when the request names one', () => {
  expect(plannerPrompt({ ...input, answerTaskId: 'report' }, [])).toContain('The run\'s answer is the output of the task with id "report"');
  expect(plannerPrompt(input, [])).not.toContain("The run's answer");
});

test('the planner is told it may name the answer task, and what that saves', () => {
  expect(plannerSystem).toContain('set "outputFrom" to that task\'s id: the run ends with it and makes no final call');
  expect(plannerPrompt({ ...input, answerTaskId: 'report' }, [])).toContain('"outputFrom" may name no other task');
});

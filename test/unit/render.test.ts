// The plan tree the CLI prints marks the task whose output is the run's answer.
import { renderPlanTree } from '../../src/cli/render';
import { PlanSchema } from '../../src/shared';

test("the plan tree marks the task a plan names as the run's answer", () => {
  const plan = PlanSchema.parse({
    tasks: [
      { id: 'fetch', kind: 'tool', tool: 'fetch', description: 'Fetch the ticket' },
      { id: 'label', kind: 'llm', description: 'Label its urgency', dependsOn: ['fetch'], tier: 'small' },
    ],
    outputFrom: 'label',
  });
  expect(renderPlanTree(plan).split('\n')).toEqual([
    'Plan · 2 tasks',
    '└─ fetch  tool fetch  Fetch the ticket',
    "   └─ label  llm  Label its urgency  (small, the run's answer)",
  ]);
  expect(renderPlanTree({ ...plan, outputFrom: undefined })).not.toContain("the run's answer");
});

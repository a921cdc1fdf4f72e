import type { EvaluateInput, PlanInput, RunTaskInput, SynthesizeInput } from '../shared';

export const plannerSystem = [
  'You are the planner of an agent run. Break the goal into a small DAG of tasks.',
  'Each task: id, kind ("llm" | "tool" | "human_review"), description, dependsOn (ids), critical, tier ("small" | "medium" | "large"),',
  'for tool tasks the tool name and its input. A tool input may reference a dependency output as "{{taskId.field}}" or the run input as "{{input.field}}".',
  'Use only the tools listed. Keep the plan within the task limit and the budget. Answer with JSON only, matching the schema.',
  'When one task\'s output, as it is, answers the goal, set "outputFrom" to that task\'s id: the run ends with it and makes no final call.',
  'Leave "outputFrom" out when the answer must be written from several results.',
].join('\n');

export function plannerPrompt(input: PlanInput, tools: unknown): string {
  return [
    `Goal: ${input.goal}`,
    `Input: ${JSON.stringify(input.input)}`,
    `Tools: ${JSON.stringify(tools)}`,
    `At most ${input.maxTasks} tasks; budget left $${input.remainingUsd}.`,
    ...(input.answerTaskId ? [`The run's answer is the output of the task with id "${input.answerTaskId}": the plan must have a task with that id, its output must be the answer, and "outputFrom" may name no other task.`] : []),
    ...(input.replan
      ? [
          `This is a REPLAN. Why: ${input.replan.reason}`,
          `Completed tasks (never re-run them; depend on them by id): ${JSON.stringify(input.replan.completed)}`,
          ...(input.replan.failed ? [`Failed: ${JSON.stringify(input.replan.failed)} — do not repeat that call unchanged.`] : []),
          ...(input.replan.tried.length > 0 ? [`Already tried: ${input.replan.tried.join(' | ')}`] : []),
          ...(input.replan.guidance ? [`Guidance from a human operator: ${input.replan.guidance}`] : []),
          'Plan only the remaining work.',
        ]
      : []),
    ...(input.feedback ? [`Your previous answer was refused: ${input.feedback}. Answer again with valid JSON matching the schema.`] : []),
  ].join('\n');
}

export const taskSystem = 'You carry out one task of a larger plan. Answer with the result only.';

export function taskPrompt(input: RunTaskInput): string {
  return [
    `Overall goal: ${input.goal}`,
    `Your task: ${input.task.description}`,
    ...(input.task.successCriteria ? [`Success criteria: ${input.task.successCriteria}`] : []),
    `Run input: ${JSON.stringify(input.runInput)}`,
    `Results of earlier tasks: ${JSON.stringify(input.dependencies)}`,
    ...(input.feedback ? [`Your previous answer was refused: ${input.feedback}. Answer again.`] : []),
  ].join('\n');
}

export const evaluateSystem =
  'You judge one task result against its success criteria. Answer JSON {"verdict": "pass"|"soft"|"hard"|"critical", "reason": "..."}: ' +
  'soft = acceptable with a remark, hard = wrong, must be redone differently, critical = harmful or dangerous, a human must look.';

export function evaluatePrompt(input: EvaluateInput): string {
  return [
    `Goal: ${input.goal}`,
    `Task ${input.task.id}: ${input.task.description}`,
    `Success criteria: ${input.task.successCriteria ?? 'the result does what the task says'}`,
    `Result: ${JSON.stringify(input.output)}`,
  ].join('\n');
}

export const synthesizeSystem = 'You write the final answer of an agent run from the results of its tasks. Be concise and concrete.';

export function synthesizePrompt(input: SynthesizeInput): string {
  return [`Goal: ${input.goal}`, `Input: ${JSON.stringify(input.runInput)}`, `Task results: ${JSON.stringify(input.results)}`].join('\n');
}

import type { AgentMessage, AgentStepInput, EvaluateInput, PlanInput, RunTaskInput, SynthesizeInput } from '../shared';

export const plannerSystem = [
  'You are the planner of an agent run. Break the goal into a small DAG of tasks.',
  'Each task: id, kind ("llm" | "tool" | "human_review" | "agent"), description, dependsOn (ids), critical, tier ("small" | "medium" | "large"),',
  'An "agent" task names "tools" it may call step by step until it has an answer: use it for open-ended subtasks whose steps cannot be known in advance.',
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

export const agentSystem = [
  'You work toward one task by calling tools, one step at a time, until you can answer.',
  'Each step, answer with JSON only: {"toolCalls": [{"tool": "<name>", "input": {...}}, ...]} to call tools (the calls of one step run at the same time),',
  'or {"answer": ...} when you have the answer. Use only the tools listed, with inputs that match their schemas.',
  'A tool result or error, and notes from the loop, come back as messages: read them before the next step.',
].join('\n');

/** The same loop through a provider's own tool calling: the tools come as tools, the calls and results as turns. */
export const agentToolSystem = [
  'You work toward one task by calling the tools you are offered, one step at a time, until you can answer.',
  'The tool calls you make in one step run at the same time. Each result or error, and notes from the loop, come back to you: read them before the next step.',
  'When you have the answer, reply with it and call no tool.',
].join('\n');

/** A step's prompt; with `tools` undefined (native tool calling) it leaves out the tools and the transcript, which travel as tools and turns. */
export function agentPrompt(input: AgentStepInput, transcript: AgentMessage[], tools: unknown): string {
  return [
    `Overall goal: ${input.goal}`,
    `Your task: ${input.task.description}`,
    ...(input.task.requiredFields?.length ? [`Your answer must be a JSON object with: ${input.task.requiredFields.join(', ')}`] : []),
    `Run input: ${JSON.stringify(input.runInput)}`,
    ...(Object.keys(input.dependencies).length > 0 ? [`Results of earlier tasks: ${JSON.stringify(input.dependencies)}`] : []),
    ...(tools === undefined
      ? [`This is step ${input.step}.`]
      : [`Tools: ${JSON.stringify(tools)}`, `This is step ${input.step}. What happened so far:`, ...(transcript.length > 0 ? transcript.map((message) => JSON.stringify(message)) : ['(nothing yet)'])]),
  ].join('\n');
}

// The keys a scripted model answers by; free of zod, so workflow code can import them.
/** The model keys a run asks for. */
export const ModelKey = {
  plan: 'plan',
  synthesize: 'synthesize',
  task: (taskId: string) => `task:${taskId}`,
  evaluate: (taskId: string) => `evaluate:${taskId}`,
  /** Each model call of an agent task's loop, in order. */
  step: (taskId: string) => `step:${taskId}`,
} as const;

// Task kinds, tiers and purposes: plain values, free of zod, so workflow code can import them.
export const TaskKind = { llm: 'llm', tool: 'tool', humanReview: 'human_review', agent: 'agent' } as const;
export type TaskKind = (typeof TaskKind)[keyof typeof TaskKind];

export const ModelTier = { small: 'small', medium: 'medium', large: 'large' } as const;
export type ModelTier = (typeof ModelTier)[keyof typeof ModelTier];

/** What kind of work an llm task is: sets its default tier and whether its answer may be cached. */
export const taskPurposes = ['classification', 'extraction', 'formatting', 'evaluation', 'validation', 'analysis', 'reasoning', 'generation'] as const;
export type TaskPurpose = (typeof taskPurposes)[number];

const purposeTier: Record<TaskPurpose, ModelTier> = {
  classification: 'small',
  extraction: 'small',
  formatting: 'small',
  evaluation: 'medium',
  validation: 'medium',
  analysis: 'large',
  reasoning: 'large',
  generation: 'large',
};

/** Deterministic work whose answer depends only on what is asked: cached at temperature 0. */
export const cacheablePurposes: readonly TaskPurpose[] = ['classification', 'extraction', 'formatting', 'evaluation'];

/** The tier a task runs on: the request's override (by task id, then purpose), the plan's, the purpose's, else medium. */
export function effectiveTier(task: { id: string; tier?: ModelTier | undefined; purpose?: TaskPurpose | undefined }, overrides: Record<string, ModelTier> = {}): ModelTier {
  return overrides[task.id] ?? (task.purpose ? overrides[task.purpose] : undefined) ?? task.tier ?? (task.purpose ? purposeTier[task.purpose] : 'medium');
}

/**
 * The one list of failure type names. Activities decide the type once, at their boundary
 * (ApplicationFailure.type); the workflow reads it to choose retry, replan, degrade or escalate.
 */
export const FailureKind = {
  transient: 'transient',
  rateLimit: 'rate_limit',
  timeout: 'timeout',
  permanent: 'permanent',
  malformed: 'malformed',
  context: 'context',
  budget: 'budget',
  semantic: 'semantic',
} as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

export const failureKinds = Object.values(FailureKind) as [FailureKind, ...FailureKind[]];

/** Kinds that Temporal may retry with the same input. Everything else needs a different call. */
export const retryableFailureKinds: readonly FailureKind[] = [FailureKind.transient, FailureKind.rateLimit, FailureKind.timeout];

export const nonRetryableFailureKinds: FailureKind[] = failureKinds.filter((kind) => !retryableFailureKinds.includes(kind));

/**
 * Attempts in all per retryable class (transient and timeout: 3 retries; rate_limit: 5). The
 * activity stops retrying a class past its bound; a task's retry policy allows the largest.
 */
export const attemptsByKind = { transient: 4, timeout: 4, rate_limit: 6 } as const satisfies Partial<Record<FailureKind, number>>;

export function isFailureKind(value: unknown): value is FailureKind {
  return typeof value === 'string' && (failureKinds as string[]).includes(value);
}

/** Details every Keel activity attaches to its ApplicationFailure, so the workflow can count attempts. */
export interface ActivityFailureDetails {
  attempt: number;
  /** What a model call cost even though its output was refused (e.g. malformed JSON). */
  call?: { model: string; usage: { inputTokens: number; outputTokens: number }; costUsd: number };
  /** The breakers of the tier's chain after the failed call. */
  breakers?: Array<{ provider: string; model: string; state: 'closed' | 'open' | 'half_open' }>;
}

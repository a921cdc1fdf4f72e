// The one place where an error becomes a Temporal failure, and so where retry-or-not is decided.
import { ApplicationFailure } from '@temporalio/activity';
import { attemptsByKind, KeelError, retryableFailureKinds, type ActivityFailureDetails, type BreakerSnapshot, type FailureKind, type ModelCallReport } from '../shared';

const transientCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** The longest a rate-limited call waits before its next attempt, whatever Retry-After says. */
export const maxRetryAfterMs = 60_000;

/** Rate-limit backoff without a Retry-After: full jitter between 500 ms and 2 s × 2^(attempt-1), capped at 60 s. */
export function rateLimitDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxRetryAfterMs, 2_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(500 + random() * (ceiling - 500));
}

export function classify(error: unknown): FailureKind {
  if (error instanceof KeelError) return error.kind;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && transientCodes.has(code)) return 'transient';
  return 'permanent';
}

export function toApplicationFailure(error: unknown, attempt: number, call?: ModelCallReport, breakers?: BreakerSnapshot[]): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const kind = classify(error);
  const bound = (attemptsByKind as Partial<Record<FailureKind, number>>)[kind];
  const exhausted = bound !== undefined && attempt >= bound;
  let message = error instanceof Error ? error.message : String(error);
  const details: ActivityFailureDetails = { attempt, ...(call ? { call } : {}), ...(breakers ? { breakers } : {}) };
  const retryAfterMs = error instanceof KeelError ? error.options.retryAfterMs : undefined;
  let nextRetryDelay = kind === 'rate_limit' ? (retryAfterMs ?? rateLimitDelayMs(attempt)) : undefined;
  if (nextRetryDelay !== undefined && nextRetryDelay > maxRetryAfterMs) {
    // A provider (or a scenario) asking for years would park the task and break what shows it.
    message = `${message} (asked to wait ${formatMs(nextRetryDelay)} before retrying; capped at ${formatMs(maxRetryAfterMs)}, the rate-limit path's longest backoff)`;
    nextRetryDelay = maxRetryAfterMs;
  }
  return ApplicationFailure.create({
    type: kind,
    message,
    nonRetryable: exhausted || !retryableFailureKinds.includes(kind),
    details: [details],
    ...(nextRetryDelay === undefined ? {} : { nextRetryDelay }),
    ...(error instanceof Error ? { cause: error } : {}),
  });
}

function formatMs(ms: number): string {
  if (ms >= 86_400_000) return `${Math.round(ms / 86_400_000).toLocaleString('en-US')} days`;
  return ms >= 1_000 ? `${Math.round(ms / 1_000)} s` : `${ms} ms`;
}

// Reads what an activity failure says: its kind, message, attempts and what the attempts cost.
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { type ActivityFailureDetails, type FailureKind, isFailureKind } from '../shared/workflow';

export interface FailureSummary {
  kind: FailureKind;
  message: string;
  attempts: number;
  details?: ActivityFailureDetails;
}

export function summarizeFailure(error: unknown, attemptsIfUnknown: number): FailureSummary {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as ActivityFailureDetails | undefined;
    return {
      kind: isFailureKind(cause.type) ? cause.type : 'permanent',
      message: cause.message,
      attempts: typeof details?.attempt === 'number' ? details.attempt : attemptsIfUnknown,
      ...(details ? { details } : {}),
    };
  }
  if (cause instanceof TimeoutFailure) {
    return { kind: 'timeout', message: `timed out (${cause.timeoutType})`, attempts: attemptsIfUnknown };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { kind: 'permanent', message, attempts: attemptsIfUnknown };
}

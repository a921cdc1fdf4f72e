import type { FailureKind } from './failure-types';

/**
 * A failure whose class is already known: the activity boundary turns it into an
 * ApplicationFailure of that type, retryable or not by its kind.
 */
export class KeelError extends Error {
  override readonly name: string = 'KeelError';
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly options: { retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

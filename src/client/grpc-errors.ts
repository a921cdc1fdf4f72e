// Temporal's gRPC errors, read once and said as Keel's: what went wrong and what to do.
import { WorkflowNotFoundError } from '@temporalio/client';
import { RunNotFoundError, TemporalRefusedError, TemporalUnreachableError } from './errors';

/** Temporal's errors as Keel's, each a sentence that says what to do; anything else as it is. */
export function translateError(error: unknown, where: { address: string; namespace: string; workflowId?: string; action?: string }): unknown {
  const { workflowId } = where;
  if (error instanceof WorkflowNotFoundError && workflowId) return new RunNotFoundError(workflowId);
  const code = grpcCode(error);
  const message = innermostMessage(error);
  if (code === GrpcCode.permissionDenied || code === GrpcCode.unauthenticated) {
    const what = code === GrpcCode.unauthenticated ? 'were not accepted' : `are not allowed to ${where.action ?? 'do this'} in namespace "${where.namespace}"`;
    return new TemporalRefusedError(
      `Temporal at ${where.address} refused it: the credentials (TEMPORAL_API_KEY, or the profile's api_key or client certificate) ${what} (${message.replace(/^\d+ [A-Z_]+: /, '')}): use a key or certificate with that permission`,
      { cause: error },
    );
  }
  if (code === GrpcCode.unavailable || code === GrpcCode.deadlineExceeded) return new TemporalUnreachableError(where.address, { cause: error });
  if ((error as Error | undefined)?.name === 'NamespaceNotFoundError' || (code === GrpcCode.notFound && /namespace/i.test(message))) return new TemporalRefusedError(`namespace "${where.namespace}" does not exist on ${where.address}: create it (\`temporal operator namespace create\`) or set TEMPORAL_NAMESPACE`, { cause: error });
  if (code === GrpcCode.notFound && workflowId) return new RunNotFoundError(workflowId);
  if (code === GrpcCode.invalidArgument || code === GrpcCode.resourceExhausted || code === GrpcCode.failedPrecondition) {
    return new TemporalRefusedError(`Temporal refused it: ${message.replace(/^\d+ [A-Z_]+: /, '')}`, { cause: error });
  }
  return error;
}

/** The gRPC status codes Keel tells apart. */
export const GrpcCode = { invalidArgument: 3, deadlineExceeded: 4, notFound: 5, permissionDenied: 7, resourceExhausted: 8, failedPrecondition: 9, unavailable: 14, unauthenticated: 16 } as const;

/** What the server said: the message of the innermost cause (the SDK wraps it in "Failed to …"). */
function innermostMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  for (let current = (error as { cause?: unknown } | undefined)?.cause, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    message = (current as { details?: string }).details || current.message || message;
  }
  return message;
}

/** A gRPC status code, on the error or on the error it wraps (the SDK's ServiceError keeps it on its cause). */
export function grpcCode(error: unknown): number | undefined {
  for (let current = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

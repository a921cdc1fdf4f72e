// The one check of a request at Keel's doors, and how a run that passes it starts.
import { AgentRequestSchema, describeIssues, jsonShapeProblems, KeelPhase, requestProblems, type AgentRequest, type AgentRequestInput } from '../shared';
import { InvalidRequestError } from './errors';

export function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

/** KeelStatus at start: a run that brings its plan, or is one agent loop, goes straight to its tasks. */
export function startStatus(request: AgentRequest): KeelPhase {
  return request.plan || request.agent ? KeelPhase.running : KeelPhase.planning;
}

/**
 * The one check of a request at Keel's doors (the SDK, and through it the CLI, schedules and the
 * webhook): its shape first (depth and size, before anything walks it), then the schema, then what
 * only a door can see (a deadline already past, a plan and its answer task).
 */
export function parseRequest(request: AgentRequestInput): { data: AgentRequest } {
  const shape = jsonShapeProblems(request);
  if (shape.length > 0) throw new InvalidRequestError(shape);
  const parsed = AgentRequestSchema.safeParse(request);
  if (!parsed.success) throw new InvalidRequestError(describeIssues(parsed.error));
  const problems = requestProblems(parsed.data);
  if (problems.length > 0) throw new InvalidRequestError(problems);
  return { data: parsed.data };
}

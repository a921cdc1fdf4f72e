// `keel`: the SDK. Start, follow and decide runs; schedules; histories; the types of requests,
// results, decisions and escalations; the errors the client throws.
export * from '../client';
export { FailureKind, isBlobRef, KeelError, KeelPhase, RunStatus } from '../shared';
export type {
  AgentRequest,
  AgentRequestInput,
  BlobRef,
  Decision,
  EscalationRecord,
  PendingEscalation,
  Plan,
  RunResult,
  RunState,
  Task,
  TaskDraft,
  TaskError,
  TaskResult,
  AgentToolCallRecord,
} from '../shared';

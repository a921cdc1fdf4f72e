import type { AgentRequest } from '../shared/workflow';
import type { EscalationDesk } from './escalation';
import type { RunRecord } from './run-record';

/** Why the current plan must give way to a new one. */
export interface ReplanTrigger {
  reason: string;
  failed?: { taskId: string; tool?: string; input?: unknown; kind: string; message: string };
  guidance?: string;
}

/** What every step of a run shares. */
export interface RunContext {
  request: AgentRequest;
  record: RunRecord;
  desk: EscalationDesk;
  idempotencyKey: string;
  /** Set once when the current plan must be replaced; tasks not yet started then do not start. */
  replan?: ReplanTrigger;
  /** An operator's `replan` signal, taken by the scheduler. */
  operatorReplan?: ReplanTrigger;
}

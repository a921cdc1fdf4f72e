import { workflowInfo } from '@temporalio/workflow';
import type { AgentMessage, AgentRequest, TranscriptHead } from '../shared/workflow';
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
  /** Whether this run's tasks take the flat path (scheduler.ts) or the awaiting one it was recorded with. */
  flatTasks: boolean;
  /** Set once when the current plan must be replaced; tasks not yet started then do not start. */
  replan?: ReplanTrigger;
  /** An operator's `replan` signal, taken by the scheduler. */
  operatorReplan?: ReplanTrigger;
  /**
   * Set for a run that is one agent loop: ends this run and continues the loop in a fresh history
   * (continue-as-new), carrying the record and where the loop is.
   */
  continueLoop?: (carry: LoopCarry) => Promise<never>;
  /** Where a loop continued from an earlier run of the same id picks up; taken once. */
  resumeLoop?: LoopCarry;
}

/** Where an agent loop is between steps: what continue-as-new carries to the next run. */
export interface LoopCarry {
  taskId: string;
  /** The next step's number. */
  step: number;
  transcript?: TranscriptHead;
  newMessages: AgentMessage[];
  toolCalls: number;
  lastCalls?: string;
  repeats: number;
}

/** The history is long enough to continue as new: Temporal suggests it, or the request's own bound. */
export function historyTooLong(request: AgentRequest): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || (request.maxHistoryEvents !== undefined && info.historyLength >= request.maxHistoryEvents);
}

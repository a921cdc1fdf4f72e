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

/**
 * What runs started before this patch did differently, and keep doing when they replay: (1) each
 * task awaited its dependencies and then its run (awaiting-scheduler.ts), where runs now take the
 * flat task path (scheduler.ts): about a quarter of the promises, and the SDK records a stack for
 * every one; tasks ready at one moment schedule their activities in another order on the two
 * paths. (2) A model-planned run published KeelStatus `planning` again after the client had set it.
 * agentRun asks the patch once, at the run's start, before anything waits: a patch first asked
 * right after a local activity can read false on replay (the activity resolves from its marker a
 * workflow task early).
 */
export const leanRunPatch = 'keel-lean-run';

/** What every step of a run shares. */
export interface RunContext {
  request: AgentRequest;
  record: RunRecord;
  desk: EscalationDesk;
  idempotencyKey: string;
  /** True for runs started under `leanRunPatch`; false for runs recorded before it, which keep their paths. */
  leanRun: boolean;
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

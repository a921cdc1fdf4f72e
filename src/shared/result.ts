import type { FailureKind } from './failure-types';
import type { Plan, TaskKind } from './task';

export const RunStatus = {
  completed: 'completed',
  partial: 'partial',
  rejected: 'rejected',
  failed: 'failed',
  budgetExhausted: 'budget_exhausted',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

export const TaskStatus = {
  pending: 'pending',
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export interface TaskError {
  kind: FailureKind | 'cancelled' | 'dependency';
  message: string;
}

export interface TokenCounts {
  input: number;
  output: number;
}

export interface TaskResult {
  id: string;
  kind: TaskKind;
  status: Exclude<TaskStatus, 'pending' | 'running'>;
  attempts: number;
  costUsd: number;
  tool?: string;
  model?: string;
  error?: TaskError;
}

export interface EscalationRecord {
  reason: string;
  decision?: string;
  decidedBy?: string;
  note?: string;
}

/** The workflow's result; `keel run --wait --json` prints exactly this. */
export interface RunResult {
  workflowId: string;
  runId: string;
  goal: string;
  status: RunStatus;
  reason?: string;
  output?: string;
  plans: number;
  replans: number;
  tasks: TaskResult[];
  escalations: EscalationRecord[];
  costUsd: number;
  budgetUsd: number;
  tokens: TokenCounts;
  cache: { hits: number; misses: number };
}

/** Live progress, returned by the `state` query while the run goes on. */
export interface RunState {
  workflowId: string;
  phase: KeelPhase;
  goal: string;
  plan?: Plan;
  plans: number;
  tasks: Array<{ id: string; kind: TaskKind; description: string; dependsOn: string[]; status: TaskStatus; attempts: number; costUsd: number; tool?: string; error?: TaskError }>;
  costUsd: number;
  budgetUsd: number;
  tokens: TokenCounts;
  result?: RunResult;
}

/** The values of the KeelStatus search attribute. */
export const KeelPhase = {
  planning: 'planning',
  running: 'running',
  synthesizing: 'synthesizing',
  awaitingApproval: 'awaiting_approval',
  completed: 'completed',
  partial: 'partial',
  rejected: 'rejected',
  failed: 'failed',
  budgetExhausted: 'budget_exhausted',
} as const;
export type KeelPhase = (typeof KeelPhase)[keyof typeof KeelPhase];

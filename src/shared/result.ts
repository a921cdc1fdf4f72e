import type { FailureKind } from './failure-types';
import type { BreakerSnapshot } from './activity-types';
import type { BlobRef } from './blob-ref';
import type { Plan } from './task';
import type { TaskKind } from './task-kinds';

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
  /** Which plan (1-based) the task belonged to. */
  plan: number;
  status: Exclude<TaskStatus, 'pending' | 'running'>;
  attempts: number;
  costUsd: number;
  tool?: string;
  model?: string;
  error?: TaskError;
  /** A `soft` verdict: accepted, with this remark. */
  warning?: string;
  /** An agent task: the model calls its loop made, and each tool call with its step and how it ended. */
  steps?: number;
  toolCalls?: AgentToolCallRecord[];
}

/** One tool call of an agent loop, as the result reports it. */
export interface AgentToolCallRecord {
  step: number;
  tool: string;
  status: 'completed' | 'failed';
}

/** A signal the run could not take. A large payload is kept as the start of its JSON, with its size in bytes. */
export interface IgnoredSignal {
  payload: unknown;
  bytes?: number;
  reason: string;
}

export interface EscalationRecord {
  reason: string;
  kind: string;
  taskId?: string;
  decision?: string;
  decidedBy?: string;
  note?: string;
  guidance?: string;
  /** How much an approved budget escalation raised the budget by, when the decision said. */
  budgetUsd?: number;
  decidedAt?: string;
  /** True when no one decided in time and the default action was taken. */
  timedOut?: boolean;
  /** The door the decision came through: "keel serve", "cli", "sdk", "keel mcp" when signed; "signal" or "update" when not. */
  door?: string;
  /** True when a door's signature proved `decidedBy` (see docs/security.md). */
  verified?: boolean;
  /** Under a quorum: every verified approver, in order. */
  approvedBy?: string[];
}

/** One plan the planner produced, accepted or not, and why it was asked for. */
export interface PlanRecord {
  number: number;
  reason: string;
  accepted: boolean;
  taskIds: string[];
  rationale?: string;
  /** The task this plan names as the run's answer, when it names one. */
  outputFrom?: string;
  problems?: string[];
}

/** The workflow's result; `keel run --wait --json` prints exactly this. */
export interface RunResult {
  workflowId: string;
  runId: string;
  goal: string;
  status: RunStatus;
  reason?: string;
  output?: string;
  /** Set instead of `output` in history when the answer is too large for it; getResult resolves it. */
  outputRef?: BlobRef;
  plans: number;
  replans: number;
  tasks: TaskResult[];
  escalations: EscalationRecord[];
  planHistory: PlanRecord[];
  costUsd: number;
  budgetUsd: number;
  tokens: TokenCounts;
  /** Cacheable model calls answered from the response cache (hits) or not (misses). */
  cache: { hits: number; misses: number };
  /** The model circuit breakers as the run's last model call saw them (real providers only). */
  breakers?: BreakerSnapshot[];
  /** How many times the run continued as new to keep its history small (absent when none). */
  continuations?: number;
}

/** Live progress, returned by the `state` query while the run goes on. */
export interface RunState {
  workflowId: string;
  phase: KeelPhase;
  goal: string;
  plan?: Plan;
  plans: number;
  /** Each task as the result reports it, with its description and dependencies, in any status (an agent's `steps` is the step it is on). */
  tasks: Array<Omit<TaskResult, 'status'> & { description: string; dependsOn: string[]; status: TaskStatus }>;
  planHistory: PlanRecord[];
  /** The last signals the run could not take (at most 20), and why. */
  ignoredSignals: IgnoredSignal[];
  /** How many were ignored in all, when more than the list keeps. */
  ignoredSignalCount?: number;
  /** True when the state was too large for a query reply and its long texts were cut (`keel status` of an ended run reads the whole result). */
  truncated?: boolean;
  costUsd: number;
  budgetUsd: number;
  tokens: TokenCounts;
  cache: { hits: number; misses: number };
  /** Set aside for model calls in flight. */
  reservedUsd: number;
  breakers?: BreakerSnapshot[];
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

import type { ScriptedModelEntry, ScriptedToolEntry, Usage } from './scenario';
import type { BlobRef } from './blob-ref';
import type { ApprovalTrust } from './approvals';
import type { Plan, Task } from './task';
import type { ModelTier } from './task-kinds';
import type { Verdict } from './decision';

/**
 * The part of a scenario one activity needs: the entries for its key and how many attempts at
 * that key came before. Attempt N of this activity uses entry `consumed + N - 1`.
 */
export interface ScriptSlice<Entry> {
  key: string;
  entries: Entry[];
  consumed: number;
}

/** A circuit breaker of the worker that made a call: one per provider and model. */
export interface BreakerSnapshot {
  provider: string;
  model: string;
  state: 'closed' | 'open' | 'half_open';
}

/** What a model call cost, as recorded in history and charged to the ledger by the workflow. */
export interface ModelCallReport {
  model: string;
  usage: Usage;
  /** What was billed: 0 when the answer came from the response cache. */
  costUsd: number;
  provider?: string;
  /** hit or miss when the call was cacheable; absent when it was not. */
  cache?: 'hit' | 'miss';
  /** The breakers of the tier's chain right after the call. */
  breakers?: BreakerSnapshot[];
}

export interface PlanInput {
  goal: string;
  input: Record<string, unknown>;
  allowedTools: string[];
  maxTasks: number;
  /** What is left of the run's budget: what the plan may cost to run (told to the planner). */
  remainingUsd: number;
  /** What this call may spend, as the workflow reserved it before scheduling; caps its output tokens. */
  reservedUsd: number;
  /** Why the previous planner output was refused; fed back so the model can correct itself. */
  feedback?: string;
  /** The request's outputFrom, not yet completed: the plan must have a task of this id. */
  answerTaskId?: string;
  /** Set when this is a replan: what is done, what failed and why, what was tried. */
  replan?: ReplanContext;
  script?: ScriptSlice<ScriptedModelEntry>;
  /** Tool names the scenario scripts; known to this run even if the worker has no such tool. */
  scriptedTools: string[];
}

export interface ReplanContext {
  reason: string;
  completed: Array<{ id: string; description: string; output: unknown }>;
  failed?: { taskId: string; tool?: string; input?: unknown; kind: string; message: string };
  /** Earlier failed calls and rejected replans, one sentence each. */
  tried: string[];
  guidance?: string;
}

/** The dearest model of a tier's chain on the worker: what one call of that tier can cost at most. */
export interface TierCeiling {
  inputPerMillion: number;
  outputPerMillion: number;
  /** The most output tokens a call asks for. */
  maxOutputTokens: number;
}

export interface PlanOutput {
  /** Unvalidated against the run's limits: the workflow's validatePlan decides. */
  plan: Plan;
  /** Tool names this worker or the scenario can run. */
  knownTools: string[];
  call: ModelCallReport;
  attempt: number;
  /** Per tier, what a call can cost at most, so the workflow can reserve before it schedules. */
  ceilings?: Record<ModelTier, TierCeiling>;
  /** Tools of this worker that ask a human before each call. */
  approvalTools?: string[];
}

/** What a supplied plan is checked against, without a planner call: asked of the worker itself. */
export interface WorkerFactsInput {
  /** Tool names the scenario scripts; known to this run even if the worker has no such tool. */
  scriptedTools: string[];
  /** A scripted run: ceilings are priced as scripted calls are. */
  scripted: boolean;
}

export interface WorkerFacts {
  /** Tool names this worker or the scenario can run. */
  knownTools: string[];
  ceilings: Record<ModelTier, TierCeiling>;
  /** Tools of this worker that ask a human before each call. */
  approvalTools?: string[];
}

export interface RunTaskInput {
  goal: string;
  runInput: Record<string, unknown>;
  task: Task;
  /** Outputs of the task's dependencies, by task id. */
  dependencies: Record<string, unknown>;
  /** What the workflow reserved for this call; the model call caps its output tokens to fit. */
  reservedUsd: number;
  /** False when the request said `cache: false`. */
  useCache?: boolean;
  idempotencyKey: string;
  /** Why the last answer was refused (malformed), fed back when re-asking. */
  feedback?: string;
  modelScript?: ScriptSlice<ScriptedModelEntry>;
  toolScript?: ScriptSlice<ScriptedToolEntry>;
}

export interface RunTaskOutput {
  output: unknown;
  attempt: number;
  call?: ModelCallReport;
  /** For a consensus task: every model's answer, and whether a majority agreed. */
  consensus?: ConsensusReport;
}

export interface ConsensusReport {
  agreed: boolean;
  /** How many answers the winner (or, without a majority, the first model's answer) had. */
  votes: number;
  answers: Array<{ provider: string; model: string; answer: unknown }>;
}

export interface SynthesizeInput {
  goal: string;
  runInput: Record<string, unknown>;
  results: Array<{ id: string; description: string; status: string; output?: unknown }>;
  reservedUsd: number;
  script?: ScriptSlice<ScriptedModelEntry>;
}

export interface SynthesizeOutput {
  /** The final answer, or a reference to it when it is too large for history. */
  output: string | BlobRef;
  call: ModelCallReport;
  attempt: number;
}

export interface EvaluateInput {
  goal: string;
  task: Task;
  output: unknown;
  reservedUsd: number;
  useCache?: boolean;
  script?: ScriptSlice<ScriptedModelEntry>;
}

export interface EvaluateOutput {
  verdict: Verdict;
  call: ModelCallReport;
  attempt: number;
}

/** A tool call an agent's model asked for. */
export interface AgentToolCall {
  tool: string;
  input: Record<string, unknown>;
}

/** One message of an agent loop's transcript, as the model reads it back at the next step. */
export type AgentMessage =
  | { role: 'assistant'; step: number; toolCalls: AgentToolCall[] }
  | { role: 'tool'; step: number; tool: string; input: unknown; result?: unknown; error?: string }
  /** What the loop itself tells the model: a repeated call, an answer it could not read. */
  | { role: 'note'; step: number; text: string };

/**
 * Where an agent's transcript is: the newest link of a chain in the blob store (each link holds the
 * messages it added and the link before), or, on a worker without one, the messages themselves.
 * A step's input carries this and the messages since, never the whole transcript by value.
 */
export type TranscriptHead = BlobRef | { inline: AgentMessage[] };

export interface AgentStepInput {
  goal: string;
  runInput: Record<string, unknown>;
  task: Task;
  dependencies: Record<string, unknown>;
  step: number;
  transcript?: TranscriptHead;
  /** Messages since the transcript's head: the last step's tool results and notes. */
  newMessages: AgentMessage[];
  reservedUsd: number;
  useCache?: boolean;
  script?: ScriptSlice<ScriptedModelEntry>;
}

export interface AgentStepOutput {
  /** Set when the model called tools; otherwise `answer` is the loop's final answer. */
  toolCalls?: AgentToolCall[];
  answer?: unknown;
  transcript: TranscriptHead;
  call: ModelCallReport;
  attempt: number;
  /** The step's model span, when traces are on: its tool calls' spans are its children. */
  span?: SpanRef;
}

/** A span another process continues: OpenTelemetry's trace and span ids, and its flags. */
export interface SpanRef {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

export interface ToolCallInput {
  taskId: string;
  tool: string;
  input: Record<string, unknown>;
  /** `<workflow id>:<task id>:<step>:<call index>`: the same on every retry and replay. */
  idempotencyKey: string;
  toolScript?: ScriptSlice<ScriptedToolEntry>;
  /** The span of the step that asked for this call (see AgentStepOutput.span). */
  parentSpan?: SpanRef;
}

/** A tool's semantic failure (or input its schema refuses) comes back as `error`, for the model to read. */
export type ToolCallOutput = { ok: true; result: unknown; attempt: number } | { ok: false; error: string; attempt: number };

/** The activities the workflow calls; implemented by createActivities(deps). */
export interface KeelActivities {
  plan(input: PlanInput): Promise<PlanOutput>;
  runTask(input: RunTaskInput): Promise<RunTaskOutput>;
  agentStep(input: AgentStepInput): Promise<AgentStepOutput>;
  callTool(input: ToolCallInput): Promise<ToolCallOutput>;
  synthesize(input: SynthesizeInput): Promise<SynthesizeOutput>;
  evaluate(input: EvaluateInput): Promise<EvaluateOutput>;
  /** The worker's tools and call ceilings, for a plan the request brought (a local activity: no I/O). */
  workerFacts(input: WorkerFactsInput): Promise<WorkerFacts>;
  /** The input JSON Schema of one of the worker's tools, for checking a human's edit of its input; undefined when the worker has no such tool. */
  toolInputSchema(input: { tool: string }): Promise<Record<string, unknown> | undefined>;
  /** The public keys the worker trusts for signed decisions, and its approver policy (a local activity: no I/O). */
  approvalTrust(): Promise<ApprovalTrust>;
  /** The client identity that sent the run's latest signal of this name (from its history). */
  signalSender(input: { workflowId: string; signalName: string }): Promise<string | undefined>;
}

// Everything the run knows, in one place: what the state query shows and what the result reports.
import { log, upsertSearchAttributes } from '@temporalio/workflow';
import { isBlobRef, keelStatusKey, KeelPhase, type BlobRef, type EscalationRecord, type IgnoredSignal, type ModelTier, type Plan, type PlanRecord, type RunResult, type RunState, type RunStatus, type Script, type ScriptedModelEntry, type ScriptedToolEntry, type ScriptSlice, type StreamEventBody, type Task, type TaskError, type TierCeiling } from '../shared/workflow';
import { BudgetLedger, roundUsd, type LedgerSnapshot } from './budget';
import { recordModelCall, recordRunEnded } from './metrics';
import { RunStream } from './stream';
import { TaskBoard, type TaskBoardSnapshot, type TaskEntry, type TaskTransition } from './task-board';

export type { TaskEntry } from './task-board';

/** Everything a run carries into its continuation (continue-as-new), as plain JSON. */
export interface RunRecordSnapshot {
  plans: Plan[];
  planHistory: PlanRecord[];
  escalations: EscalationRecord[];
  ignoredSignals: IgnoredSignal[];
  /** How many signals were ignored in all (absent in snapshots made before the count was kept). */
  ignoredSignalCount?: number;
  failedCalls: string[];
  replans: number;
  ceilings?: Record<ModelTier, TierCeiling>;
  approvalTools?: string[];
  entries: TaskBoardSnapshot['entries'];
  /** Indexes into `entries` of the current plan's tasks, by id order. */
  current: TaskBoardSnapshot['current'];
  consumed: Record<string, number>;
  ledger: LedgerSnapshot;
  /** How many runs came before this one. */
  continuations: number;
  /** The live stream's next offset (absent in snapshots made before the stream). */
  streamOffset?: number;
}

export interface Halt {
  status: Exclude<RunStatus, 'completed' | 'partial'>;
  reason: string;
}

export class RunRecord {
  readonly ledger: BudgetLedger;
  readonly plans: Plan[] = [];
  readonly planHistory: PlanRecord[] = [];
  readonly escalations: EscalationRecord[] = [];
  /** The last signals the run could not take, each cut to a preview: a sender cannot grow the state without limit. */
  readonly ignoredSignals: IgnoredSignal[] = [];
  ignoredSignalCount = 0;
  /** stableJson({ tool, input }) of tool calls that failed in a way a replan must avoid. */
  readonly failedCalls: string[] = [];
  replans = 0;
  /** Runs of this workflow id that came before (continue-as-new). */
  continuations = 0;
  halt?: Halt;
  /** What one call of each tier can cost at most, as the worker that planned said. */
  ceilings?: Record<ModelTier, TierCeiling>;
  /** The worker's tools that ask a human before each call, as the worker that planned said. */
  approvalTools: string[] = [];
  /** What the run does as it does it, for readers of its live stream. */
  readonly stream = new RunStream();
  /** Every task of every plan, and every change of their state. */
  readonly tasks = new TaskBoard((taskId, transition, error) => this.stream.emit(taskEvent(taskId, transition, error)));
  private readonly consumed = new Map<string, number>();
  private phase: KeelPhase | undefined;
  private waiting = 0;
  private result?: RunResult;

  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly goal: string,
    budgetUsd: number,
    private readonly script: Script | undefined,
  ) {
    this.ledger = new BudgetLedger(budgetUsd, recordModelCall);
  }

  setPhase(phase: KeelPhase): void {
    this.phase = phase;
    this.publishPhase();
  }

  /** While any escalation waits, KeelStatus says awaiting_approval, whatever else goes on. */
  beginWaiting(): void {
    this.waiting += 1;
    this.publishPhase();
  }

  endWaiting(): void {
    this.waiting -= 1;
    this.publishPhase();
  }

  /**
   * KeelStatus as the run's start set it: a phase equal to it needs no upsert. Only runs with a
   * supplied plan trust it (their start says `running`); agent runs keep the first upsert that
   * histories recorded before rely on.
   */
  trustStartStatus(status: string | undefined): void {
    if (status !== undefined && (Object.values(KeelPhase) as string[]).includes(status)) this.published = status as KeelPhase;
  }

  private published: KeelPhase | undefined;
  private publishPhase(): void {
    const visible = this.visiblePhase;
    if (visible === this.published) return;
    this.published = visible;
    upsertSearchAttributes([{ key: keelStatusKey, value: visible }]);
  }

  private get visiblePhase(): KeelPhase {
    return this.waiting > 0 && !this.result ? 'awaiting_approval' : (this.phase ?? 'planning');
  }

  /** The task the current (last accepted) plan names as the run's answer; none means a synthesis call. */
  get answerTask(): string | undefined {
    return [...this.planHistory].reverse().find((plan) => plan.accepted)?.outputFrom;
  }

  get isScripted(): boolean {
    return this.script !== undefined;
  }

  /** The scenario entries for a model key, with how many attempts at it came before. */
  modelScript(key: string): ScriptSlice<ScriptedModelEntry> | undefined {
    // A scripted run never falls through to a real model: a missing key reaches the activity
    // as an empty list, which fails with a message naming the key to add.
    if (!this.script) return undefined;
    return { key, entries: this.script.model[key] ?? [], consumed: this.consumed.get(key) ?? 0 };
  }

  hasModelKey(key: string): boolean {
    return (this.script?.model[key]?.length ?? 0) > 0;
  }

  toolScript(tool: string): ScriptSlice<ScriptedToolEntry> | undefined {
    const entries = this.script?.tools[tool];
    const key = `tool:${tool}`;
    return entries ? { key, entries, consumed: this.consumed.get(key) ?? 0 } : undefined;
  }

  /** Every attempt at a key consumes one scripted entry, retries and replans included. */
  consume(key: string | undefined, attempts: number): void {
    if (key === undefined) return;
    this.consumed.set(key, (this.consumed.get(key) ?? 0) + attempts);
  }

  get scriptedTools(): string[] {
    return Object.keys(this.script?.tools ?? {});
  }

  recordPlan(plan: Plan, reason: string, outcome: { accepted: true; order: Task[] } | { accepted: false; problems: string[] }): void {
    this.plans.push(plan);
    const number = this.plans.length;
    this.stream.emit({ type: 'plan.proposed', plan: number, taskIds: plan.tasks.map((task) => task.id) });
    this.stream.emit(outcome.accepted ? { type: 'plan.accepted', plan: number } : { type: 'plan.rejected', plan: number, problems: outcome.problems });
    this.planHistory.push({
      number,
      reason,
      accepted: outcome.accepted,
      taskIds: plan.tasks.map((task) => task.id),
      ...(plan.rationale ? { rationale: plan.rationale } : {}),
      ...(plan.outputFrom !== undefined ? { outputFrom: plan.outputFrom } : {}),
      ...(outcome.accepted ? {} : { problems: outcome.problems }),
    });
    if (outcome.accepted) this.tasks.adoptPlan(number, outcome.order);
  }

  snapshot(): RunRecordSnapshot {
    return {
      plans: this.plans,
      planHistory: this.planHistory,
      escalations: this.escalations,
      ignoredSignals: this.ignoredSignals,
      ignoredSignalCount: this.ignoredSignalCount,
      failedCalls: this.failedCalls,
      replans: this.replans,
      ...(this.ceilings ? { ceilings: this.ceilings } : {}),
      ...(this.approvalTools.length > 0 ? { approvalTools: this.approvalTools } : {}),
      ...this.tasks.snapshot(),
      consumed: Object.fromEntries(this.consumed),
      ledger: this.ledger.snapshot(),
      continuations: this.continuations + 1,
      streamOffset: this.stream.offset,
    };
  }

  restore(snapshot: RunRecordSnapshot): void {
    this.plans.push(...snapshot.plans);
    this.planHistory.push(...snapshot.planHistory);
    this.escalations.push(...snapshot.escalations);
    for (const ignored of snapshot.ignoredSignals) this.ignoreSignal(ignored.payload, ignored.reason);
    this.ignoredSignalCount = snapshot.ignoredSignalCount ?? snapshot.ignoredSignals.length;
    this.failedCalls.push(...snapshot.failedCalls);
    this.replans = snapshot.replans;
    if (snapshot.ceilings) this.ceilings = snapshot.ceilings;
    if (snapshot.approvalTools) this.approvalTools = snapshot.approvalTools;
    this.tasks.restore(snapshot);
    for (const [key, count] of Object.entries(snapshot.consumed)) this.consumed.set(key, count);
    this.ledger.restore(snapshot.ledger);
    this.continuations = snapshot.continuations;
    this.stream.continueFrom(snapshot.streamOffset ?? 0);
  }

  /** Records a signal the run could not take: a preview of what it said, its size, and why. */
  ignoreSignal(payload: unknown, reason: string): void {
    this.ignoredSignalCount += 1;
    this.ignoredSignals.push({ ...previewOf(payload), reason: cut(reason, ignoredSignalLimits.reasonChars) });
    if (this.ignoredSignals.length > ignoredSignalLimits.kept) this.ignoredSignals.shift();
  }

  stop(halt: Halt): void {
    this.halt ??= halt;
  }

  finish(status: RunStatus, details: { reason?: string; output?: string | BlobRef } = {}): RunResult {
    this.result = {
      workflowId: this.workflowId,
      runId: this.runId,
      goal: this.goal,
      status,
      ...(details.reason ? { reason: details.reason } : {}),
      // A final answer too large for history stays a reference; KeelClient.getResult resolves it.
      ...(typeof details.output === 'string' ? { output: details.output } : {}),
      ...(isBlobRef(details.output) ? { outputRef: details.output } : {}),
      plans: this.plans.length,
      replans: this.replans,
      tasks: this.tasks.allEntries.map((entry) => ({ ...taskFigures(entry), status: entry.status === 'pending' || entry.status === 'running' ? 'cancelled' : entry.status })),
      escalations: this.escalations,
      planHistory: this.planHistory,
      ...this.spending,
      ...(this.continuations > 0 ? { continuations: this.continuations } : {}),
    };
    this.setPhase(status);
    this.stream.emit({ type: 'run.ended', status, ...(details.reason ? { reason: details.reason } : {}) });
    recordRunEnded(status);
    log.info('run ended', { status, ...(details.reason ? { reason: details.reason } : {}), costUsd: this.result.costUsd });
    return this.result;
  }

  /** Cost, budget, tokens, cache and breakers, as the result and the state report them. */
  private get spending(): Pick<RunResult, 'costUsd' | 'budgetUsd' | 'tokens' | 'cache' | 'breakers'> {
    return {
      costUsd: this.ledger.spentUsd,
      budgetUsd: this.ledger.budgetUsd,
      tokens: { ...this.ledger.tokens },
      cache: { ...this.ledger.cache },
      ...(this.ledger.breakers.size > 0 ? { breakers: [...this.ledger.breakers.values()] } : {}),
    };
  }

  /** What the `state` query answers: the whole state, or, when that would not fit a reply, with long texts cut. */
  state(): RunState {
    return fitForQuery(this.fullState());
  }

  private fullState(): RunState {
    return {
      workflowId: this.workflowId,
      phase: this.visiblePhase,
      goal: this.goal,
      ...(this.plans.length > 0 ? { plan: this.plans[this.plans.length - 1] } : {}),
      plans: this.plans.length,
      tasks: this.tasks.allEntries.map((entry) => ({ ...taskFigures(entry), description: entry.task.description, dependsOn: entry.task.dependsOn, status: entry.status })),
      planHistory: this.planHistory,
      ignoredSignals: this.ignoredSignals,
      ...(this.ignoredSignalCount > this.ignoredSignals.length ? { ignoredSignalCount: this.ignoredSignalCount } : {}),
      ...this.spending,
      reservedUsd: this.ledger.reservedUsd,
      ...(this.result ? { result: this.result } : {}),
    };
  }
}

/** What the result and the state both say of a task. */
function taskFigures(entry: TaskEntry) {
  return {
    id: entry.task.id,
    kind: entry.task.kind,
    plan: entry.plan,
    attempts: entry.attempts,
    costUsd: roundUsd(entry.costUsd),
    ...(entry.task.tool ? { tool: entry.task.tool } : {}),
    ...(entry.model ? { model: entry.model } : {}),
    ...(entry.error ? { error: entry.error } : {}),
    ...(entry.warning ? { warning: entry.warning } : {}),
    ...(entry.steps !== undefined ? { steps: entry.steps } : {}),
    ...(entry.toolCalls ? { toolCalls: [...entry.toolCalls] } : {}),
  };
}

/** What the run keeps of signals it ignores. */
export const ignoredSignalLimits = { kept: 20, payloadBytes: 1_024, reasonChars: 500 } as const;

/** A payload small enough as it is; a larger one as the start of its JSON, with its size. */
function previewOf(payload: unknown): Pick<IgnoredSignal, 'payload' | 'bytes'> {
  let json: string;
  try {
    json = JSON.stringify(payload) ?? String(payload);
  } catch {
    return { payload: `(not JSON: ${typeof payload})` };
  }
  if (json.length <= ignoredSignalLimits.payloadBytes) return { payload };
  return { payload: `${json.slice(0, ignoredSignalLimits.payloadBytes)}…`, bytes: new TextEncoder().encode(json).length };
}

function cut(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars)}… (${text.length} characters)`;
}

/**
 * Query replies travel in one gRPC message (4 MB by default). Everything a run keeps is bounded
 * at its door, but many long failure messages and notes add up: past this, texts are cut.
 */
export const stateReplyLimits = { bytes: 1_000_000, cutTextsTo: 500 } as const;

function fitForQuery(state: RunState): RunState {
  if (JSON.stringify(state).length <= stateReplyLimits.bytes) return state;
  return { ...(cutTexts(state, stateReplyLimits.cutTextsTo) as RunState), truncated: true };
}

function cutTexts(value: unknown, chars: number): unknown {
  if (typeof value === 'string') return cut(value, chars);
  if (Array.isArray(value)) return value.map((item) => cutTexts(item, chars));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cutTexts(item, chars)]));
  return value;
}

/** A task's transition as its stream event. */
function taskEvent(taskId: string, transition: TaskTransition, error?: TaskError): StreamEventBody {
  switch (transition) {
    case 'start':
      return { type: 'task.started', taskId };
    case 'complete':
      return { type: 'task.completed', taskId };
    case 'fail':
    case 'cancel':
      return { type: 'task.failed', taskId, failure: error ? `${error.kind}: ${error.message}` : transition };
    case 'skip':
    case 'waive':
      return { type: 'task.skipped', taskId, reason: error?.message ?? transition };
    default:
      return unreachableTransition(transition);
  }
}

function unreachableTransition(transition: never): never {
  throw new TypeError(`unknown task transition ${String(transition)}`);
}

// Everything the run knows, in one place: what the state query shows and what the result reports.
import { upsertSearchAttributes } from '@temporalio/workflow';
import {
  keelStatusKey,
  type AgentRequest,
  type EscalationRecord,
  type KeelPhase,
  type Plan,
  type RunResult,
  type RunState,
  type RunStatus,
  type Script,
  type ScriptSlice,
  type Task,
  type TaskError,
  type TaskResult,
  type TaskStatus,
} from '../shared';
import { BudgetLedger, roundUsd } from './budget';

interface TaskRecord {
  task: Task;
  status: TaskStatus;
  attempts: number;
  costUsd: number;
  model?: string;
  output?: unknown;
  error?: TaskError;
}

export interface Halt {
  status: Exclude<RunStatus, 'completed' | 'partial'>;
  reason: string;
}

export class RunRecord {
  readonly ledger: BudgetLedger;
  readonly plans: Plan[] = [];
  readonly escalations: EscalationRecord[] = [];
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly consumed = new Map<string, number>();
  private phase: KeelPhase | undefined;
  private result?: RunResult;
  halt?: Halt;

  constructor(
    readonly workflowId: string,
    readonly runId: string,
    readonly goal: string,
    budgetUsd: number,
    private readonly script: Script | undefined,
  ) {
    this.ledger = new BudgetLedger(budgetUsd);
  }

  setPhase(phase: KeelPhase): void {
    if (phase === this.phase) return;
    this.phase = phase;
    upsertSearchAttributes([{ key: keelStatusKey, value: phase }]);
  }

  /** The scenario entries for a model key, with how many attempts at it came before. */
  modelScript(key: string): ScriptSlice<NonNullable<Script>['model'][string][number]> | undefined {
    // A scripted run never falls through to a real model: a missing key reaches the activity
    // as an empty list, which fails with a message naming the key to add.
    if (!this.script) return undefined;
    return { key, entries: this.script.model[key] ?? [], consumed: this.consumed.get(key) ?? 0 };
  }

  toolScript(tool: string): ScriptSlice<NonNullable<Script>['tools'][string][number]> | undefined {
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

  addPlan(plan: Plan, order: Task[]): void {
    this.plans.push(plan);
    for (const task of order) this.tasks.set(task.id, { task, status: 'pending', attempts: 0, costUsd: 0 });
  }

  task(id: string): TaskRecord {
    const record = this.tasks.get(id);
    if (!record) throw new TypeError(`no task "${id}" in this run`);
    return record;
  }

  outputOf(id: string): unknown {
    return this.tasks.get(id)?.output;
  }

  stop(halt: Halt): void {
    this.halt ??= halt;
  }

  finish(status: RunStatus, details: { reason?: string; output?: string } = {}): RunResult {
    this.setPhase(status);
    const tasks: TaskResult[] = [...this.tasks.values()].map(({ task, status: taskStatus, attempts, costUsd, model, error }) => ({
      id: task.id,
      kind: task.kind,
      status: taskStatus === 'pending' || taskStatus === 'running' ? 'cancelled' : taskStatus,
      attempts,
      costUsd: roundUsd(costUsd),
      ...(task.tool ? { tool: task.tool } : {}),
      ...(model ? { model } : {}),
      ...(error ? { error } : {}),
    }));
    this.result = {
      workflowId: this.workflowId,
      runId: this.runId,
      goal: this.goal,
      status,
      ...(details.reason ? { reason: details.reason } : {}),
      ...(details.output !== undefined ? { output: details.output } : {}),
      plans: this.plans.length,
      replans: Math.max(0, this.plans.length - 1),
      tasks,
      escalations: this.escalations,
      costUsd: this.ledger.spentUsd,
      budgetUsd: this.ledger.budgetUsd,
      tokens: { ...this.ledger.tokens },
      cache: { hits: 0, misses: 0 },
    };
    return this.result;
  }

  state(): RunState {
    return {
      workflowId: this.workflowId,
      phase: this.phase ?? 'planning',
      goal: this.goal,
      ...(this.plans.length > 0 ? { plan: this.plans[this.plans.length - 1] } : {}),
      plans: this.plans.length,
      tasks: [...this.tasks.values()].map(({ task, status, attempts, costUsd, error }) => ({
        id: task.id,
        kind: task.kind,
        description: task.description,
        dependsOn: task.dependsOn,
        status,
        attempts,
        costUsd: roundUsd(costUsd),
        ...(task.tool ? { tool: task.tool } : {}),
        ...(error ? { error } : {}),
      })),
      costUsd: this.ledger.spentUsd,
      budgetUsd: this.ledger.budgetUsd,
      tokens: { ...this.ledger.tokens },
      ...(this.result ? { result: this.result } : {}),
    };
  }
}

export type { AgentRequest };

// The one owner of task state: every plan's tasks, which of them are current, and every status
// change, each checked against the transitions a task may make.
import type { AgentToolCallRecord, Task, TaskError, TaskStatus } from '../shared/workflow';

/** A task of some plan, as the board reports it; only the board changes it. */
export interface TaskEntry {
  readonly task: Task;
  readonly plan: number;
  readonly status: TaskStatus;
  readonly attempts: number;
  readonly costUsd: number;
  readonly model?: string;
  readonly output?: unknown;
  readonly error?: TaskError;
  readonly warning?: string;
  /** Skipped, but a human approved going on without it: dependents may run. */
  readonly waived?: boolean;
  /** An agent task: the model calls of its loop, and its tool calls. */
  readonly steps?: number;
  readonly toolCalls?: readonly AgentToolCallRecord[];
}

type MutableEntry = { -readonly [K in keyof TaskEntry]: TaskEntry[K] };

/** From which statuses each transition may be made. */
const legalFrom = {
  // failed → running is a retry (Temporal's retries are inside one attempt; these are Keel's own).
  start: ['pending', 'failed'],
  // failed → completed: a human accepted a result the evaluator or the models' vote had refused.
  complete: ['running', 'failed'],
  fail: ['running', 'failed'],
  skip: ['pending', 'running', 'failed'],
  waive: ['running', 'failed'],
  cancel: ['pending', 'running'],
} as const satisfies Record<string, readonly TaskStatus[]>;
export type TaskTransition = keyof typeof legalFrom;

/** The board as continue-as-new carries it: every entry, and indexes of the current plan's. */
export interface TaskBoardSnapshot {
  entries: TaskEntry[];
  current: number[];
}

export class TaskBoard {
  private readonly entries: MutableEntry[] = [];
  private readonly current = new Map<string, MutableEntry>();

  /** `moved` hears every transition once it is made (the run's stream). */
  constructor(private readonly moved: (id: string, transition: TaskTransition, error?: TaskError) => void = () => {}) {}

  /** An accepted plan: pending work of earlier plans is superseded; failed or cancelled tasks give way. */
  adoptPlan(number: number, order: Task[]): void {
    for (const previous of this.entries) {
      if (previous.status === 'pending') this.move(previous, 'cancel', { kind: 'cancelled', message: `superseded by plan ${number}` });
    }
    // The new plan replaces what failed or never ran; completed and skipped work stays on record.
    for (const [id, previous] of this.current) {
      if (previous.status === 'failed' || previous.status === 'cancelled') this.current.delete(id);
    }
    for (const task of order) {
      const entry: MutableEntry = { task, plan: number, status: 'pending', attempts: 0, costUsd: 0 };
      this.entries.push(entry);
      this.current.set(task.id, entry);
    }
  }

  start(id: string): void {
    this.move(this.entry(id), 'start');
  }

  /** `warning`: a string sets it, null clears it, undefined keeps what an earlier step said. */
  complete(id: string, output: unknown, warning?: string | null): void {
    const entry = this.entry(id);
    this.move(entry, 'complete');
    entry.output = output;
    delete entry.error;
    if (typeof warning === 'string') entry.warning = warning;
    else if (warning === null) delete entry.warning;
  }

  fail(id: string, error: TaskError): void {
    this.move(this.entry(id), 'fail', error);
  }

  skip(id: string, error: TaskError): void {
    this.move(this.entry(id), 'skip', error);
  }

  /** Skipped with a human's approval: its dependents run without its output. */
  waive(id: string, by: string): void {
    const entry = this.entry(id);
    const error = { kind: entry.error?.kind ?? 'permanent', message: `waived by ${by}: ${entry.error?.message ?? ''}`.trim() };
    this.move(entry, 'waive', error);
    entry.waived = true;
  }

  cancel(id: string, error: TaskError): void {
    this.move(this.entry(id), 'cancel', error);
  }

  warn(id: string, warning: string): void {
    this.entry(id).warning = warning;
  }

  /** What attempts took: Temporal's retries inside one activity count, and so does their cost. */
  recordAttempts(id: string, figures: { attempts: number; costUsd?: number; model?: string }): void {
    const entry = this.entry(id);
    entry.attempts += figures.attempts;
    entry.costUsd += figures.costUsd ?? 0;
    if (figures.model !== undefined) entry.model = figures.model;
  }

  /** One step of an agent task's loop: a model call, and what it cost. */
  recordStep(id: string, figures: { costUsd?: number; model?: string }): void {
    const entry = this.entry(id);
    entry.steps = (entry.steps ?? 0) + 1;
    entry.costUsd += figures.costUsd ?? 0;
    if (figures.model !== undefined) entry.model = figures.model;
  }

  recordToolCall(id: string, call: AgentToolCallRecord): void {
    const entry = this.entry(id);
    entry.toolCalls = [...(entry.toolCalls ?? []), call];
  }

  get(id: string): TaskEntry {
    return this.entry(id);
  }

  find(id: string): TaskEntry | undefined {
    return this.current.get(id);
  }

  /** Done for its dependents: completed, or skipped with a human's approval. */
  isSatisfied(id: string): boolean {
    const entry = this.current.get(id);
    return entry !== undefined && (entry.status === 'completed' || entry.waived === true);
  }

  outputOf(id: string): unknown {
    return this.current.get(id)?.output;
  }

  /** The current plan's tasks, with completed and skipped ones of earlier plans that it kept. */
  get currentEntries(): TaskEntry[] {
    return [...this.current.values()];
  }

  /** Every task of every plan, in the order plans added them. */
  get allEntries(): readonly TaskEntry[] {
    return this.entries;
  }

  get completedTaskIds(): string[] {
    return this.currentEntries.filter((entry) => entry.status === 'completed').map((entry) => entry.task.id);
  }

  get skippedEntries(): TaskEntry[] {
    return this.currentEntries.filter((entry) => entry.status === 'skipped');
  }

  snapshot(): TaskBoardSnapshot {
    return { entries: this.entries, current: [...this.current.values()].map((entry) => this.entries.indexOf(entry)) };
  }

  restore(snapshot: TaskBoardSnapshot): void {
    this.entries.push(...(snapshot.entries as MutableEntry[]));
    for (const index of snapshot.current) {
      const entry = this.entries[index];
      if (entry) this.current.set(entry.task.id, entry);
    }
  }

  private entry(id: string): MutableEntry {
    const entry = this.current.get(id);
    // A programming error, not a run's: a TypeError fails the workflow task, which a fixed worker retries.
    if (!entry) throw new TypeError(`no task "${id}" in this run`);
    return entry;
  }

  private move(entry: MutableEntry, transition: TaskTransition, error?: TaskError): void {
    const allowed: readonly TaskStatus[] = legalFrom[transition];
    if (!allowed.includes(entry.status)) {
      throw new TypeError(`task "${entry.task.id}" cannot ${transition} from ${entry.status} (only from ${allowed.join(', ')})`);
    }
    entry.status = targetOf[transition];
    if (error) entry.error = error;
    this.moved(entry.task.id, transition, error);
  }
}

const targetOf: Record<TaskTransition, TaskStatus> = {
  start: 'running',
  complete: 'completed',
  fail: 'failed',
  skip: 'skipped',
  waive: 'skipped',
  cancel: 'cancelled',
};

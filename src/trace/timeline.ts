// A run's timeline, read from its event history alone (no worker, no queries).
import { temporal } from '@temporalio/proto';
import { escalationTimerPrefix, type ActivityFailureDetails, type ModelCallReport, type RunResult, type Task } from '../shared';

const EventType = temporal.api.enums.v1.EventType;
type History = temporal.api.history.v1.IHistory;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

export interface TimelineSpan {
  /** What the Web UI shows too: "plan", "t2 · verify_document", "synthesize". */
  label: string;
  activityType: string;
  taskId?: string;
  dependsOn: string[];
  startMs: number;
  endMs: number;
  status: 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'running';
  attempts: number;
  failure?: { kind: string; message: string };
  model?: string;
  tokens?: { input: number; output: number };
  costUsd?: number;
  /** For plan activities: why this plan was asked for. */
  planReason?: string;
  /** For plan activities: the task the plan named as the run's answer (its outputFrom). */
  answerTask?: string;
}

export interface TimelineWait {
  taskId?: string;
  startMs: number;
  endMs: number;
  reason: string;
  decision?: string;
  decidedBy?: string;
  timedOut?: boolean;
}

export interface Timeline {
  workflowId: string;
  startMs: number;
  endMs: number;
  status: string;
  result?: RunResult;
  spans: TimelineSpan[];
  waits: TimelineWait[];
  /** Task ids on the longest chain of dependencies, by when each finished. */
  criticalPath: string[];
}

export function buildTimeline(history: History): Timeline {
  const events = history.events ?? [];
  const first = events[0];
  const startMs = millis(first?.eventTime);
  const workflowId = first?.workflowExecutionStartedEventAttributes?.workflowId ?? 'unknown';
  const spans = new Map<number, TimelineSpan>();
  const dependencies = new Map<string, string[]>();
  const timers = new Map<string, number>();
  const waits: Array<{ startMs: number; endMs: number }> = [];
  let result: RunResult | undefined;
  let status = 'running';
  let endMs = millis(events[events.length - 1]?.eventTime);

  // A plan the request brought is in the run's input; a model's plans are in the plan activities' results.
  const request = decode(first?.workflowExecutionStartedEventAttributes?.input) as { plan?: { tasks?: Task[] } } | undefined;
  for (const task of request?.plan?.tasks ?? []) dependencies.set(task.id, task.dependsOn ?? []);

  for (const event of events) {
    const at = millis(event.eventTime);
    const id = Number(event.eventId);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const attributes = event.activityTaskScheduledEventAttributes!;
        const input = decode(attributes.input) as { task?: Task; replan?: { reason?: string } } | undefined;
        const summary = summaryOf(event.userMetadata?.summary);
        const activityType = attributes.activityType?.name ?? 'activity';
        spans.set(id, {
          label: summary ?? activityType,
          activityType,
          ...(input?.task ? { taskId: input.task.id } : {}),
          dependsOn: input?.task?.dependsOn ?? [],
          startMs: at,
          endMs: at,
          status: 'running',
          attempts: 1,
          ...(activityType === 'plan' ? { planReason: input?.replan?.reason ? `replan: ${input.replan.reason}` : 'initial plan' } : {}),
        });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attributes = event.activityTaskStartedEventAttributes!;
        const span = spans.get(Number(attributes.scheduledEventId));
        if (span) span.attempts = attributes.attempt ?? 1;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const attributes = event.activityTaskCompletedEventAttributes!;
        const span = spans.get(Number(attributes.scheduledEventId));
        if (!span) break;
        const output = decode(attributes.result) as { attempt?: number; call?: ModelCallReport; plan?: { tasks?: Task[]; outputFrom?: string }; ok?: boolean; error?: string } | undefined;
        for (const task of output?.plan?.tasks ?? []) dependencies.set(task.id, task.dependsOn ?? []);
        Object.assign(span, { endMs: at, status: 'completed', ...(output?.plan?.outputFrom ? { answerTask: output.plan.outputFrom } : {}) });
        // An agent's tool call that the model can correct completes with its error, and failed all the same.
        if (span.activityType === 'callTool' && output?.ok === false) Object.assign(span, { status: 'failed', failure: { kind: 'semantic', message: output.error ?? 'the tool refused the call' } });
        if (typeof output?.attempt === 'number') span.attempts = output.attempt;
        applyCall(span, output?.call);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: {
        const attributes = event.activityTaskFailedEventAttributes!;
        const span = spans.get(Number(attributes.scheduledEventId));
        if (!span) break;
        const failure = attributes.failure;
        const details = decode(failure?.applicationFailureInfo?.details) as ActivityFailureDetails | undefined;
        Object.assign(span, { endMs: at, status: 'failed', failure: { kind: failure?.applicationFailureInfo?.type || 'failure', message: failure?.message ?? '' } });
        if (typeof details?.attempt === 'number') span.attempts = details.attempt;
        applyCall(span, details?.call);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const span = spans.get(Number(event.activityTaskTimedOutEventAttributes?.scheduledEventId));
        if (span) Object.assign(span, { endMs: at, status: 'timed_out', failure: { kind: 'timeout', message: event.activityTaskTimedOutEventAttributes?.failure?.message ?? 'timed out' } });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const span = spans.get(Number(event.activityTaskCanceledEventAttributes?.scheduledEventId));
        if (span) Object.assign(span, { endMs: at, status: 'cancelled' });
        break;
      }
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const summary = summaryOf(event.userMetadata?.summary) ?? '';
        if (summary.startsWith(escalationTimerPrefix)) timers.set(event.timerStartedEventAttributes?.timerId ?? '', at);
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED:
      case EventType.EVENT_TYPE_TIMER_CANCELED: {
        const timerId = event.timerFiredEventAttributes?.timerId ?? event.timerCanceledEventAttributes?.timerId ?? '';
        const started = timers.get(timerId);
        if (started !== undefined) waits.push({ startMs: started, endMs: at });
        timers.delete(timerId);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        result = decode(event.workflowExecutionCompletedEventAttributes?.result) as RunResult | undefined;
        status = result?.status ?? 'completed';
        endMs = at;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
        status = 'ended abnormally';
        endMs = at;
        break;
    }
  }

  // Escalation waits are the labelled timers of `condition(…, timeout)`, one per escalation, in
  // order; the result says who decided what.
  const escalations = result?.escalations ?? [];
  const timelineWaits: TimelineWait[] = escalations.map((escalation, index) => {
    const timer = waits[index] ?? { startMs: endMs, endMs };
    return {
      ...(escalation.taskId ? { taskId: escalation.taskId } : {}),
      startMs: timer.startMs,
      endMs: timer.endMs,
      reason: escalation.reason,
      ...(escalation.decision ? { decision: escalation.decision } : {}),
      ...(escalation.decidedBy ? { decidedBy: escalation.decidedBy } : {}),
      ...(escalation.timedOut ? { timedOut: true } : {}),
    };
  });
  const spanList = [...spans.values()];
  const finishedAt = new Map<string, number>();
  for (const span of spanList) if (span.taskId && span.status === 'completed') finishedAt.set(span.taskId, span.endMs);
  for (const wait of timelineWaits) if (wait.taskId && wait.decision === 'approve') finishedAt.set(wait.taskId, wait.endMs);
  return { workflowId, startMs, endMs, status, ...(result ? { result } : {}), spans: spanList, waits: timelineWaits, criticalPath: criticalPath(finishedAt, dependencies) };
}

/** Walks back from the task that finished last through, each time, the dependency that finished last. */
export function criticalPath(finishedAt: ReadonlyMap<string, number>, dependencies: ReadonlyMap<string, string[]>): string[] {
  const latest = (ids: Iterable<string>) =>
    [...ids].filter((id) => finishedAt.has(id)).sort((a, b) => finishedAt.get(b)! - finishedAt.get(a)!)[0];
  const path: string[] = [];
  for (let current = latest(finishedAt.keys()); current !== undefined && !path.includes(current); current = latest(dependencies.get(current) ?? [])) {
    path.unshift(current);
  }
  return path;
}

function applyCall(span: TimelineSpan, call: ModelCallReport | undefined): void {
  if (!call) return;
  span.model = call.model;
  span.tokens = { input: call.usage.inputTokens, output: call.usage.outputTokens };
  span.costUsd = call.costUsd;
}

/** A summary payload's text; undefined when absent or unreadable (encrypted, without the key). */
function summaryOf(payload: { data?: Uint8Array | null } | null | undefined): string | undefined {
  const value = decode({ payloads: payload ? [payload] : [] });
  return typeof value === 'string' ? value : undefined;
}

/** A payload's JSON value; undefined when absent or unreadable (encrypted, without the key). */
function decode(payloads: Payloads): unknown {
  const data = payloads?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}

function millis(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);
}

/** "0.25 s", or "12.3 s" past ten seconds: how both renderings print durations. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

// Reads what a run's event history shows: which activities were scheduled and completed, and when.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

export interface ActivityTimeline {
  /** Event ids, in history order. */
  scheduled: Map<string, number>;
  completed: Map<string, number>;
  /** Activity summaries or type names per scheduled activity, in order. */
  summaries: string[];
  types: string[];
}

export async function activityTimeline(client: Client, workflowId: string): Promise<ActivityTimeline> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, number>();
  const completed = new Map<string, number>();
  const summaryByScheduledId = new Map<number, string>();
  const summaries: string[] = [];
  const types: string[] = [];
  const decoder = new TextDecoder();
  for (const event of history.events ?? []) {
    const id = Number(event.eventId);
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const data = event.userMetadata?.summary?.data;
      const summary = data ? (JSON.parse(decoder.decode(data)) as string) : (event.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
      summaryByScheduledId.set(id, summary);
      summaries.push(summary);
      types.push(event.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
      if (!scheduled.has(summary)) scheduled.set(summary, id);
    }
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const summary = summaryByScheduledId.get(Number(event.activityTaskCompletedEventAttributes?.scheduledEventId));
      if (summary !== undefined) completed.set(summary, id);
    }
  }
  return { scheduled, completed, summaries, types };
}

/** Time from scheduling an activity to the start of its last attempt, with that attempt's number. */
export async function lastAttemptDelays(client: Client, workflowId: string): Promise<Array<{ summary: string; attempt: number; msFromScheduled: number }>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<number, { summary: string; at: number }>();
  const delays: Array<{ summary: string; attempt: number; msFromScheduled: number }> = [];
  const decoder = new TextDecoder();
  const millis = (time: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);
  for (const event of history.events ?? []) {
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const data = event.userMetadata?.summary?.data;
      scheduled.set(Number(event.eventId), { summary: data ? (JSON.parse(decoder.decode(data)) as string) : '', at: millis(event.eventTime) });
    }
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const attributes = event.activityTaskStartedEventAttributes!;
      const origin = scheduled.get(Number(attributes.scheduledEventId));
      if (origin) delays.push({ summary: origin.summary, attempt: attributes.attempt ?? 1, msFromScheduled: millis(event.eventTime) - origin.at });
    }
  }
  return delays;
}

/** The (JSON) inputs of every scheduled activity of a type, in order, as history recorded them. */
export async function activityInputs(client: Client, workflowId: string, activityType: string): Promise<unknown[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const decoder = new TextDecoder();
  return (history.events ?? [])
    .filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
    .map((event) => JSON.parse(decoder.decode(event.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!)) as unknown);
}

/** KeelStatus as a run published it: the value its start set, then each upsert's, in order (a patch's TemporalChangeVersion upsert is not one). */
export async function keelStatusHistory(client: Client, workflowId: string): Promise<{ atStart: string | undefined; upserts: string[] }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const decoder = new TextDecoder();
  const value = (fields: temporal.api.common.v1.ISearchAttributes | null | undefined): string | undefined => {
    const data = fields?.indexedFields?.KeelStatus?.data;
    return data ? (JSON.parse(decoder.decode(data)) as string) : undefined;
  };
  const upserts = (history.events ?? [])
    .filter((event) => event.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
    .map((event) => value(event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes))
    .filter((status): status is string => status !== undefined);
  return { atStart: value(history.events?.[0]?.workflowExecutionStartedEventAttributes?.searchAttributes), upserts };
}

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

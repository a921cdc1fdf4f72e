// Keel's view of a Temporal Schedule: what `keel schedule` shows.
export interface ScheduleInfo {
  scheduleId: string;
  goal: string;
  /** The cron expression or interval. */
  spec: string;
  nextRuns: string[];
  recentRuns: Array<{ at: string; workflowId: string }>;
}

/** What `keel schedule` shows, from a schedule's listing or description (the memo keeps what the user wrote). */
export function scheduleInfo(
  scheduleId: string,
  schedule: { memo?: Record<string, unknown> | undefined; info: { nextActionTimes: Date[]; recentActions: Array<{ takenAt: Date; action: { workflow: { workflowId: string } } }> } },
): ScheduleInfo {
  return {
    scheduleId,
    goal: typeof schedule.memo?.goal === 'string' ? schedule.memo.goal : '',
    spec: typeof schedule.memo?.spec === 'string' ? schedule.memo.spec : '',
    nextRuns: schedule.info.nextActionTimes.map((time) => time.toISOString()),
    recentRuns: schedule.info.recentActions.map((action) => ({ at: action.takenAt.toISOString(), workflowId: action.action.workflow.workflowId })),
  };
}

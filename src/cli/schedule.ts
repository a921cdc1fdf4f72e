// `keel schedule create|list|delete`: Temporal Schedules that start a scenario or goal on a cron or interval.
import { KeelClient, type ScheduleInfo } from '../client';
import { ExitCode } from './cli-error';
import { loadRequest, type RunCommandOptions } from './load-request';
import type { CliIo } from './io';

export interface ScheduleCreateOptions extends RunCommandOptions {
  cron?: string;
  every?: string;
  json?: boolean;
}


export async function scheduleCreateCommand(goal: string | undefined, options: ScheduleCreateOptions, io: CliIo): Promise<number> {
  const { id, cron, every, json, ...requestOptions } = options;
  const request = loadRequest(goal, requestOptions);
  const scheduleId = id ?? `keel-schedule-${Date.now().toString(36)}`;
  return withClient(async (client) => {
    const schedule = await client.createSchedule(scheduleId, { ...(cron ? { cron } : {}), ...(every ? { every } : {}) }, request);
    if (json) io.json(schedule);
    else io.out(`created schedule ${schedule.scheduleId} (${schedule.spec}): ${schedule.goal}\n  next runs: ${schedule.nextRuns.slice(0, 3).join(', ') || '—'}`);
    return ExitCode.ok;
  });
}

export async function scheduleListCommand(options: { json?: boolean }, io: CliIo): Promise<number> {
  return withClient(async (client) => {
    const schedules = await client.listSchedules();
    if (options.json) io.json(schedules);
    else if (schedules.length === 0) io.out('no schedules — create one with `keel schedule create --cron "0 9 * * 1" --scenario FILE`');
    else io.out(schedules.map(describeSchedule).join('\n'));
    return ExitCode.ok;
  });
}

export async function scheduleDeleteCommand(scheduleId: string, io: CliIo): Promise<number> {
  return withClient(async (client) => {
    await client.deleteSchedule(scheduleId);
    io.out(`deleted schedule ${scheduleId} (runs it started are not touched)`);
    return ExitCode.ok;
  });
}

function describeSchedule(schedule: ScheduleInfo): string {
  const last = schedule.recentRuns.at(-1);
  return `${schedule.scheduleId}  ${schedule.spec}  ${schedule.goal}\n  next: ${schedule.nextRuns[0] ?? '—'}  last: ${last ? `${last.at} → ${last.workflowId}` : '—'}`;
}

async function withClient(body: (client: KeelClient) => Promise<number>): Promise<number> {
  const client = await KeelClient.connect();
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

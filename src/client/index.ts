// The SDK: start, follow and decide runs; schedules; histories. What others may import from the client.
export { KeelClient, type DecideOptions, type KeelClientOptions, type StartedRun } from './keel-client';
export type { ScheduleInfo } from './schedules';
export { InvalidDecisionError, InvalidRequestError, NoWorkerError, RunEndedError, RunNotFoundError, TemporalRefusedError, TemporalUnreachableError } from './errors';

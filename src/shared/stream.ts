// A run's live stream: one ordered list of events, each with an offset that only grows. The run
// keeps it (src/workflows/stream.ts); activities add model text deltas to it by signal; readers page
// through it with a query (no history for reading). Plain values and types: workflow-safe.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RunStatus } from './result';

export type StreamEvent = { offset: number; at: string } & StreamEventBody;

export type StreamEventBody =
  | { type: 'run.started'; goal: string }
  | { type: 'plan.proposed'; plan: number; taskIds: string[] }
  | { type: 'plan.accepted'; plan: number }
  | { type: 'plan.rejected'; plan: number; problems: string[] }
  | { type: 'task.started'; taskId: string }
  /** A new attempt of a model call began: the deltas of its earlier attempts are void. */
  | { type: 'task.retrying'; key: string; taskId?: string; attempt: number; failure: string }
  | { type: 'task.completed'; taskId: string }
  | { type: 'task.failed'; taskId: string; failure: string }
  | { type: 'task.skipped'; taskId: string; reason: string }
  /** Text a model wrote, as it wrote it: `key` names the call (task:<id>, step:<id>, plan, synthesis, …), `attempt` its activity attempt. */
  | { type: 'model.delta'; key: string; taskId?: string; attempt: number; text: string; toolCalls?: ToolCallDelta[] }
  | { type: 'step'; taskId: string; step: number }
  | { type: 'escalation.waiting'; escalationId: number; kind: string; taskId?: string; reason: string }
  | { type: 'escalation.decided'; escalationId: number; decision: string; by: string }
  | { type: 'run.ended'; status: RunStatus; reason?: string };

export type StreamEventType = StreamEventBody['type'];

/** Part of a tool call as the model writes it: its name once, then pieces of its JSON arguments. */
export interface ToolCallDelta {
  index: number;
  name?: string;
  arguments: string;
}

/** What an activity sends: the deltas of one model call's attempt since its last batch. */
export interface DeltaBatch {
  key: string;
  taskId?: string;
  attempt: number;
  text: string;
  toolCalls?: ToolCallDelta[];
  /** This attempt failed so: said before the activity ends, for the task.retrying of the next attempt. */
  failure?: string;
}

export interface StreamPage {
  events: StreamEvent[];
  /** Ask for events after this offset next. */
  next: number;
  /** The first offset the run still holds: events before it were dropped (an earlier run of a continued chain, or past the cap). */
  first: number;
  /** True once `run.ended` is in the stream. */
  ended: boolean;
}

export const streamDeltasSignal = defineSignal<[DeltaBatch]>('keelStreamDeltas');
export const streamEventsQuery = defineQuery<StreamPage, [{ after?: number; limit?: number }]>('keelEvents');

/** Deltas are sent at most this often per model call. */
export const deltaBatchMs = 100;
/** A page holds at most this many events. */
export const streamPageLimit = 500;

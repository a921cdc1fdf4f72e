// Patterns, defaults and messages of the contracts: the zod schemas use them, and workflow code
// imports them too (for its own messages and limits); free of zod.
import { failureKinds } from './failure-types';

/** Workflow ids are derived from idempotency keys, so keys must be safe in one. */
export const idempotencyKeyPattern = /^[A-Za-z0-9_.:@-]{1,200}$/;
export const taskIdPattern = /^[A-Za-z0-9_.-]{1,64}$/;
export const outputFromMessage = 'outputFrom names a task id: 1-64 letters, digits, "_", "." or "-"';

export const requestDefaults = { budgetUsd: 1, maxTasks: 20 } as const;

const failureEntry = `{ "fail": "${failureKinds.join('|')}" } with optional message, retryAfterMs, delayMs`;
/** What a scripted entry that matches neither form is told. */
export const scriptedEntryMessages = {
  model: `a model entry is a response ({ "text" }, { "json" } or the structured object) or ${failureEntry}`,
  tool: `a tool entry is { "result": ..., "delayMs"? } or ${failureEntry}`,
} as const;

/** What a request may be at the doors (client, CLI, webhook, scenario files). */
export const jsonLimits = {
  /** Levels of nesting in a request (objects and arrays); deeper is refused. */
  maxDepth: 64,
  /**
   * Bytes of a request's JSON. Temporal refuses a payload past 2 MB, and a scenario's script rides
   * in the request (a scripted plan of thousands of tasks is over a megabyte): room for both.
   */
  maxRequestBytes: 1_536 * 1024,
} as const;

/** Characters a goal may have: a goal says what to achieve; data goes in input. */
export const goalMaxChars = 10_000;
/** A goal must have something to read: a letter, digit, punctuation or symbol, not only blanks or zero-width marks. */
export const visibleCharacter = /[\p{L}\p{N}\p{P}\p{S}]/u;
export const goalMessages = {
  required: 'goal is required: say what the agent should achieve',
  invisible: 'goal has no visible characters (only spaces or zero-width marks): say what the agent should achieve',
  tooLong: `goal is longer than ${goalMaxChars} characters: say what to achieve in the goal and put the data in input`,
} as const;

/** The agent loop's bounds: steps (model calls) per task, by default and at most. */
export const agentLimits = { defaultMaxSteps: 10, maxSteps: 50, maxToolCalls: 500 } as const;
/** The task id of a whole run that is one agent loop (request `agent`). */
export const agentTaskId = 'agent';

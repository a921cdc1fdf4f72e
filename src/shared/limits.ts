// Patterns, defaults and messages that both the zod schemas (client, ingest, activities) and the
// workflow's own checks (src/workflows/contracts.ts) use; free of zod, so workflow code can import them.
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

import { z } from 'zod';
import { failureKinds } from './failure-types';
import { withRule } from './json-schema';
import { scriptedEntryMessages } from './limits';

/** `{ "fail": KIND }`: the scripted call fails the way a real provider or tool would. */
export const ScriptedFailureSchema = z.object({
  fail: z.enum(failureKinds),
  message: z.string().optional(),
  retryAfterMs: z.number().int().min(0).optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
});
export type ScriptedFailure = z.output<typeof ScriptedFailureSchema>;

export const UsageSchema = z.object({ inputTokens: z.number().int().min(0), outputTokens: z.number().int().min(0) });
export type Usage = z.output<typeof UsageSchema>;

/**
 * A scripted model response: `{ "text" }`, `{ "json" }`, or the structured object itself
 * (a plan's `{ "tasks": [...] }`, a verdict's `{ "verdict": ... }`). `usage`, `model` and
 * `delayMs` (simulated latency) may accompany any of them.
 */
export const ScriptedModelResponseSchema = withRule(
  z
    .object({
      usage: UsageSchema.optional(),
      model: z.string().optional(),
      delayMs: z.number().int().min(0).max(600_000).optional(),
    })
    .catchall(z.unknown()),
  'not-a-failure-entry',
);

export const ScriptedModelEntrySchema = z.union([ScriptedFailureSchema.strict(), ScriptedModelResponseSchema], {
  error: scriptedEntryMessages.model,
});
export type ScriptedModelEntry = z.output<typeof ScriptedModelEntrySchema>;

export const ScriptedToolEntrySchema = z.union(
  [ScriptedFailureSchema.strict(), z.object({ result: z.unknown(), delayMs: z.number().int().min(0).max(600_000).optional() }).strict()],
  { error: scriptedEntryMessages.tool },
);
export type ScriptedToolEntry = z.output<typeof ScriptedToolEntrySchema>;

const entryList = <T extends z.ZodType>(entry: T) => z.array(entry).min(1, 'give at least one entry');

/** The scripted part of a scenario: model responses per key and tool outcomes per tool name. */
export const ScriptSchema = z.object({
  model: z.record(z.string(), entryList(ScriptedModelEntrySchema)).default({}),
  tools: z.record(z.string(), entryList(ScriptedToolEntrySchema)).default({}),
});
export type Script = z.output<typeof ScriptSchema>;

export function isFailureEntry(entry: ScriptedModelEntry | ScriptedToolEntry): entry is ScriptedFailure {
  return 'fail' in entry && typeof entry.fail === 'string';
}

/** The Nth attempt at a key gets entry N; past the end, the last entry repeats. */
export function scriptedEntryAt<T>(entries: readonly T[], index: number): T {
  const entry = entries[Math.min(index, entries.length - 1)];
  if (entry === undefined) throw new TypeError('a script list is never empty (the schema requires one entry)');
  return entry;
}

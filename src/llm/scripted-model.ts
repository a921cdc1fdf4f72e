// The scripted model of scenario files: answers from the run's script, fails as scripted.
import { setTimeout as delay } from 'node:timers/promises';
import { isFailureEntry, KeelError, scriptedEntryAt, type ScriptedFailure, type ScriptedModelEntry, type ScriptSlice } from '../shared';
import type { ModelClient, ModelRequest, ModelResponse } from './model-client';
import { estimateTokens } from './pricing';
import { defaultTierModels } from './router';

/** What a `malformed` entry answers: text that is not JSON, as a confused model would write. */
export const malformedText = 'Sure! Here is the plan you asked for: {tasks: [oops';

const metadataKeys = new Set(['usage', 'model', 'delayMs']);

export class ScriptedModel implements ModelClient {
  readonly name = 'scripted';

  /** @param attempt this activity's attempt number (1-based), so retries read the next entry. */
  constructor(
    private readonly script: ScriptSlice<ScriptedModelEntry>,
    private readonly attempt: number,
  ) {}

  async generate(request: ModelRequest): Promise<ModelResponse> {
    if (this.script.entries.length === 0) {
      throw new KeelError(
        'permanent',
        `the scenario has no model entries for "${this.script.key}": add "${this.script.key}": [{ "text": "..." }] to its "model"`,
      );
    }
    const entry = scriptedEntryAt(this.script.entries, this.script.consumed + this.attempt - 1);
    const delayMs = typeof entry.delayMs === 'number' && entry.delayMs > 0 ? entry.delayMs : 0;
    // A listener hears the answer word by word across the delay, as a provider streams it.
    const streams = request.onDelta !== undefined && !isFailureEntry(entry) && delayMs > 0;
    if (delayMs > 0 && !streams) await delay(delayMs, undefined, { signal: request.signal });
    const model = 'model' in entry && typeof entry.model === 'string' ? entry.model : defaultTierModels[request.tier];
    const text = isFailureEntry(entry) ? failureText(entry, this.script.key) : responseText(entry);
    if (streams) {
      const words = text.match(/\s*\S+\s*/g) ?? [text];
      for (const word of words) {
        await delay(delayMs / words.length, undefined, { signal: request.signal });
        request.onDelta!({ text: word });
      }
    }
    const usage =
      'usage' in entry && entry.usage
        ? entry.usage
        : { inputTokens: estimateTokens(request.system + request.prompt), outputTokens: estimateTokens(text) };
    // Like a real provider, it stops at the output cap: a scenario cannot spend past the budget either.
    const outputTokens = Math.min(usage.outputTokens, request.maxOutputTokens ?? Number.POSITIVE_INFINITY);
    return { text, model, usage: { ...usage, outputTokens } };
  }
}

/** Fails the way the scripted kind says; `malformed` instead answers with text that is not JSON. */
function failureText(entry: ScriptedFailure, key: string): string {
  if (entry.fail === 'malformed') return malformedText;
  throw new KeelError(entry.fail, entry.message ?? `scripted ${entry.fail} failure at "${key}"`, {
    ...(entry.retryAfterMs === undefined ? {} : { retryAfterMs: entry.retryAfterMs }),
  });
}

function responseText(entry: Record<string, unknown>): string {
  if (typeof entry.text === 'string') return entry.text;
  if ('json' in entry) return JSON.stringify(entry.json);
  return JSON.stringify(Object.fromEntries(Object.entries(entry).filter(([key]) => !metadataKeys.has(key))));
}

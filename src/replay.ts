// Replays recorded histories against the current workflow code: the determinism gate and `keel replay`.
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';

export interface HistorySource {
  /** A file path or a workflow id, for the report. */
  source: string;
  workflowId: string;
  history: temporal.api.history.v1.IHistory;
}

export interface ReplayOutcome {
  source: string;
  workflowId: string;
  ok: boolean;
  nondeterministic: boolean;
  message?: string;
  /** The event the history and the code disagree on, when the error names it. */
  eventId?: number;
  /** What the history recorded at that event, e.g. "UpsertWorkflowSearchAttributes". */
  recorded?: string;
  /** What the code did instead, e.g. "Activity" (it scheduled an activity). */
  codeDid?: string;
}

export const nondeterminismAdvice =
  'the workflow code no longer makes the decisions this history recorded. If the change is meant, ' +
  'guard it with patched("change-name") so runs already in flight keep the old path (deprecatePatch later), ' +
  'or ship it as a new workflow type; re-record test/histories (npm run record-histories) once no old runs remain.';

/** Parses exported JSON (`keel export` or `temporal workflow show --output json`). */
export function parseHistory(json: string, source: string): temporal.api.history.v1.IHistory {
  try {
    return historyFromJSON(JSON.parse(json));
  } catch (error) {
    throw new Error(`${source} is not an exported event history: ${(error as Error).message}`);
  }
}

export function workflowIdOf(history: temporal.api.history.v1.IHistory, fallback: string): string {
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return started?.workflowId ?? fallback;
}

export async function replayHistories(sources: HistorySource[], options: ReplayWorkerOptions): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  const bySourceOrder = sources.map(({ workflowId, history }) => ({ workflowId, history }));
  let index = 0;
  for await (const result of Worker.runReplayHistories(options, bySourceOrder)) {
    const source = sources[index++]!;
    if (!result.error) {
      outcomes.push({ source: source.source, workflowId: result.workflowId, ok: true, nondeterministic: false });
      continue;
    }
    const message = result.error.message;
    const eventId = /event[ _]?id[:= ]+(\d+)|HistoryEvent\(id: (\d+)/i.exec(message);
    const recorded = /HistoryEvent\(id: \d+, (\w+)/.exec(message)?.[1];
    const codeDid = /(\w+) machine does not handle this event/.exec(message)?.[1] ?? /command (\w+)/i.exec(message)?.[1];
    outcomes.push({
      source: source.source,
      workflowId: result.workflowId,
      ok: false,
      nondeterministic: result.error.name === 'DeterminismViolationError' || /nondetermin/i.test(message),
      message,
      ...(eventId ? { eventId: Number(eventId[1] ?? eventId[2]) } : {}),
      ...(recorded ? { recorded } : {}),
      ...(codeDid ? { codeDid } : {}),
    });
  }
  return outcomes;
}

// Replays recorded histories against the current workflow code: the determinism gate and `keel replay`.
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
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

/** A file that is not a whole event history: empty, cut, edited, or not a history at all. */
export class InvalidHistoryError extends Error {
  override readonly name = 'InvalidHistoryError';
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source} is not a valid event history: ${problem} — export it again with \`keel export ID -o FILE\` (or \`temporal workflow show -w ID --output json\`)`);
  }
}

/**
 * Parses exported JSON (`keel export` or `temporal workflow show --output json`) and checks it is
 * whole: events numbered 1, 2, 3… from the run's start. The SDK's replayer stops answering on some
 * histories with a gap, so a gap is refused here, before it gets one.
 */
export function parseHistory(json: string, source: string): temporal.api.history.v1.IHistory {
  let history: temporal.api.history.v1.IHistory;
  try {
    history = historyFromJSON(JSON.parse(json));
  } catch (error) {
    throw new InvalidHistoryError(source, json.trim() === '' ? 'the file is empty' : (error as Error).message);
  }
  const problem = historyProblem(history);
  if (problem) throw new InvalidHistoryError(source, problem);
  return history;
}

/** Why a history is not whole, or undefined. */
function historyProblem(history: temporal.api.history.v1.IHistory): string | undefined {
  const events = history.events ?? [];
  if (events.length === 0) return 'it has no events';
  const { EventType } = temporal.api.enums.v1;
  if (events[0]!.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) {
    return `its first event is ${EventType[events[0]!.eventType ?? 0] ?? 'unknown'}, not the run's start (WorkflowExecutionStarted)`;
  }
  for (let index = 0; index < events.length; index++) {
    const id = Number(events[index]!.eventId);
    if (id !== index + 1) return `event ${index + 1} is missing or out of place (found event ${id} there): the file was cut or edited`;
  }
  return undefined;
}

export function workflowIdOf(history: temporal.api.history.v1.IHistory, fallback: string): string {
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return started?.workflowId ?? fallback;
}

/** How long one history may take to replay before it is reported as stuck: generous, as replay runs ~1,000 events a second. */
function replayTimeoutMs(history: temporal.api.history.v1.IHistory): number {
  return 30_000 + 10 * (history.events?.length ?? 0);
}

/**
 * Replays each history; one that fails, or that the SDK's replayer stops answering on, is reported
 * and the rest go on (a stuck replayer is left behind, and a fresh one takes the remaining).
 * `stuck` is true when one was left behind: the process then has a worker that will never finish.
 */
export async function replayHistories(sources: HistorySource[], options: ReplayWorkerOptions, timeoutFor = replayTimeoutMs): Promise<ReplayOutcome[] & { stuck?: boolean }> {
  const outcomes: ReplayOutcome[] & { stuck?: boolean } = [];
  let remaining = sources;
  while (remaining.length > 0) {
    const batch = remaining;
    remaining = [];
    const results = Worker.runReplayHistories(options, batch.map(({ workflowId, history }) => ({ workflowId, history })))[Symbol.asyncIterator]();
    let stuckHere = false;
    for (let index = 0; index < batch.length; index++) {
      const source = batch[index]!;
      const next = await withTimeout(results.next(), timeoutFor(source.history));
      if (next === timedOut) {
        stuckHere = true;
        outcomes.stuck = true;
        outcomes.push({
          source: source.source,
          workflowId: source.workflowId,
          ok: false,
          nondeterministic: false,
          message: `the replayer stopped answering on this history after ${Math.round(timeoutFor(source.history) / 1000)} s: it is probably not a whole history; export it again`,
        });
        remaining = batch.slice(index + 1);
        break;
      }
      if (next.done) break;
      outcomes.push(outcomeOf(source, next.value));
    }
    // A replayer that answered is shut down now: left open, its worker held the process up after the
    // last line was printed (15 s on an idle 2-core machine, over 90 s on a busy one). Its outcomes
    // are in: a failure to shut down changes none of them.
    if (!stuckHere) await results.return?.(undefined).catch(() => undefined);
  }
  return outcomes;
}

export const timedOut = Symbol('timed out');

/** `promise`'s value, or `timedOut` once `ms` pass; either way no timer is left behind to hold the process. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof timedOut> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof timedOut>((resolve) => (timer = setTimeout(() => resolve(timedOut), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function outcomeOf(source: HistorySource, result: { workflowId: string; error?: Error }): ReplayOutcome {
  if (!result.error) return { source: source.source, workflowId: result.workflowId, ok: true, nondeterministic: false };
  const message = result.error.message;
  const eventId = /event[ _]?id[:= ]+(\d+)|HistoryEvent\(id: (\d+)/i.exec(message);
  const recorded = /HistoryEvent\(id: \d+, (\w+)/.exec(message)?.[1];
  const codeDid = /(\w+) machine does not handle this event/.exec(message)?.[1] ?? /command (\w+)/i.exec(message)?.[1];
  return {
    source: source.source,
    workflowId: result.workflowId,
    ok: false,
    nondeterministic: result.error.name === 'DeterminismViolationError' || /nondetermin/i.test(message),
    message,
    ...(eventId ? { eventId: Number(eventId[1] ?? eventId[2]) } : {}),
    ...(recorded ? { recorded } : {}),
    ...(codeDid ? { codeDid } : {}),
  };
}

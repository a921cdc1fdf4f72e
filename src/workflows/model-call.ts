// The one path of a model call: reserve → call → consume the scenario's entries → settle, and on
// failure the same consume and settle, so a failed call's cost and its scripted entries count too.
import type { ModelCallReport, ActivityFailureDetails } from '../shared/workflow';
import { summarizeFailure, type FailureSummary } from './activity-failure';
import type { Reservation } from './budget';
import type { RunRecord } from './run-record';

export interface ModelCallSpec {
  /** The scenario key whose entries the call consumes, one per attempt (none for a real run). */
  scriptKey: string | undefined;
  /**
   * What the call may spend, set aside before it is scheduled. A promise when the reservation may
   * wait for calls in flight to settle. Undefined for a call that only reports what it cost (a tool).
   */
  reservation: Reservation | Promise<Reservation> | undefined;
  /** The attempts the activity's retry policy allows: a failure that does not say counts as that many. */
  attempts: number;
}

export type ModelCallOutcome<Output> = { ok: true; output: Output } | { ok: false; failure: FailureSummary; error: unknown };

/** What every model (and task) activity returns: how many attempts it took and what it cost. */
interface CallReport {
  attempt: number;
  call?: ModelCallReport;
}

/**
 * Runs one call. `invoke` gets what the reservation set aside (0 with none) and schedules the
 * activity; it is called in the same step as the reservation is made, so the call's place among
 * others scheduled at that moment does not change.
 */
export async function callModel<Output extends CallReport>(record: RunRecord, spec: ModelCallSpec, invoke: (reservedUsd: number) => Promise<Output>): Promise<ModelCallOutcome<Output>> {
  const reservation = spec.reservation instanceof Promise ? await spec.reservation : spec.reservation;
  try {
    const output = await invoke(reservation?.amountUsd ?? 0);
    return succeeded(record, spec, reservation, output);
  } catch (error) {
    return failed(record, spec, reservation, error);
  }
}

/**
 * The same call, chained rather than awaited, for a reservation already made: `next` takes the
 * outcome in the same step, and the call makes one promise beyond the activity's own instead of
 * callModel's three. The SDK records a stack for every promise a workflow makes, so this is the
 * form of the task path, which runs once for every task.
 */
export function chainModelCall<Output extends CallReport, Next>(
  record: RunRecord,
  spec: ModelCallSpec & { reservation: Reservation | undefined },
  invoke: (reservedUsd: number) => Promise<Output>,
  next: (outcome: ModelCallOutcome<Output>) => Next | Promise<Next>,
): Promise<Next> {
  const { reservation } = spec;
  return invoke(reservation?.amountUsd ?? 0).then(
    (output) => next(succeeded(record, spec, reservation, output)),
    (error: unknown) => next(failed(record, spec, reservation, error)),
  );
}

function succeeded<Output extends CallReport>(record: RunRecord, spec: ModelCallSpec, reservation: Reservation | undefined, output: Output): ModelCallOutcome<Output> {
  record.consume(spec.scriptKey, output.attempt);
  settle(record, reservation, output.call);
  return { ok: true, output };
}

function failed<Output>(record: RunRecord, spec: ModelCallSpec, reservation: Reservation | undefined, error: unknown): ModelCallOutcome<Output> {
  const failure = summarizeFailure(error, spec.attempts);
  record.consume(spec.scriptKey, failure.attempts);
  settle(record, reservation, failure.details?.call, failure.details?.breakers);
  return { ok: false, failure, error };
}

function settle(record: RunRecord, reservation: Reservation | undefined, call: ModelCallReport | undefined, breakers?: ActivityFailureDetails['breakers']): void {
  if (reservation) record.ledger.settle(reservation, call, breakers);
  else record.ledger.charge(call);
}

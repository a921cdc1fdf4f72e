// Reserve before schedule: a model call sets aside what it can cost at most before it starts. When
// calls in flight hold too much of the budget, it waits for them to settle; when nothing is in
// flight, it takes what is left (its output cap shrinks to fit).
import { condition } from '@temporalio/workflow';
import { type ModelTier, isBlobRef } from '../shared/workflow';
import { worstCaseUsd, type Reservation } from './budget';
import type { RunRecord } from './run-record';

/** `calls`: how many models answer at once (a consensus task). */
export async function reserveModelCall(record: RunRecord, tier: ModelTier, promptChars: number, calls = 1): Promise<Reservation> {
  const now = reserveModelCallNow(record, tier, promptChars, calls);
  if (now) return now;
  // Only a call with a known worst case waits: for calls in flight to free enough, or to settle.
  const { ledger } = record;
  const wanted = wantedUsd(record, tier, promptChars, calls)!;
  await condition(() => ledger.availableUsd >= wanted || ledger.reservedUsd === 0);
  return ledger.reserve(wanted);
}

/** The same reservation when it need not wait for calls in flight; undefined (nothing reserved) when it must. */
export function reserveModelCallNow(record: RunRecord, tier: ModelTier, promptChars: number, calls = 1): Reservation | undefined {
  const { ledger } = record;
  const wanted = wantedUsd(record, tier, promptChars, calls);
  if (wanted === undefined) return ledger.reserve(ledger.availableUsd / 2);
  if (ledger.availableUsd < wanted && ledger.reservedUsd > 0) return undefined;
  return ledger.reserve(wanted);
}

/** The most a call can cost; undefined before the worker has said what calls cost (histories from before ceilings): then half of what is left. */
function wantedUsd(record: RunRecord, tier: ModelTier, promptChars: number, calls: number): number | undefined {
  const ceiling = record.ceilings?.[tier];
  return ceiling ? worstCaseUsd(ceiling, promptChars) * calls : undefined;
}

/** Planning may spend at most half of what is left, so a plan always leaves money to run it. */
export function reservePlanning(record: RunRecord): Reservation {
  return record.ledger.reserve(record.ledger.availableUsd / 2);
}

/** Characters of a value as a prompt would carry it; a value stored outside history counts at its real size. */
export function promptSize(...parts: unknown[]): number {
  return parts.reduce<number>((sum, part) => sum + sizeOf(part), 0);
}

function sizeOf(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (isBlobRef(value)) return value.bytes;
  if (Array.isArray(value)) return 2 + value.reduce<number>((sum, item) => sum + sizeOf(item) + 1, 0);
  if (value !== null && typeof value === 'object') return 2 + Object.entries(value).reduce((sum, [key, item]) => sum + key.length + 4 + sizeOf(item), 0);
  return (JSON.stringify(value) ?? '').length;
}

// Reserve before schedule: a model call sets aside what it can cost at most before it starts. When
// calls in flight hold too much of the budget, it waits for them to settle; when nothing is in
// flight, it takes what is left (its output cap shrinks to fit).
import { condition } from '@temporalio/workflow';
import { type ModelTier, isBlobRef } from '../shared/workflow';
import { worstCaseUsd, type Reservation } from './budget';
import type { RunRecord } from './run-record';

/** `calls`: how many models answer at once (a consensus task). */
export async function reserveModelCall(record: RunRecord, tier: ModelTier, promptChars: number, calls = 1): Promise<Reservation> {
  const { ledger } = record;
  const ceiling = record.ceilings?.[tier];
  // Before the worker has said what calls cost (histories from before ceilings): half of what is left.
  if (!ceiling) return ledger.reserve(ledger.availableUsd / 2);
  const wanted = worstCaseUsd(ceiling, promptChars) * calls;
  if (ledger.availableUsd < wanted && ledger.reservedUsd > 0) {
    await condition(() => ledger.availableUsd >= wanted || ledger.reservedUsd === 0);
  }
  return ledger.reserve(wanted);
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

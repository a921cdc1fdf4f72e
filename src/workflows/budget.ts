// Pure cost ledger. The workflow reserves before it schedules a model call and settles after, so
// calls in flight together can never spend more than the budget: each call's output-token cap is
// derived from its own reservation, and reservations never add up to more than what is left.
import type { BreakerSnapshot, ModelCallReport, TierCeiling, TokenCounts } from '../shared/workflow';

/** Below this, a reservation could not pay for even a tiny answer: treat the budget as spent. */
export const minimumReservationUsd = 0.000_01;

export interface LedgerSnapshot {
  budgetUsd: number;
  spentUsd: number;
  tokens: TokenCounts;
  cache: { hits: number; misses: number };
  breakers: BreakerSnapshot[];
}

export interface Reservation {
  readonly amountUsd: number;
}

export class BudgetLedger {
  private spent = 0;
  private reserved = 0;
  private readonly open = new Set<Reservation>();
  readonly tokens: TokenCounts = { input: 0, output: 0 };
  readonly cache = { hits: 0, misses: 0 };
  /** The breakers the latest model call saw, by provider/model. */
  readonly breakers = new Map<string, BreakerSnapshot>();

  constructor(
    public budgetUsd: number,
    /** Called for every charged call (the workflow records metrics; unit tests pass nothing). */
    private readonly onCharge?: (call: ModelCallReport) => void,
  ) {}

  /** A human approved spending more: the budget grows by `amountUsd`. */
  extend(amountUsd: number): void {
    this.budgetUsd = roundUsd(this.budgetUsd + amountUsd);
  }

  /**
   * Sets aside what one model call may spend: `wantedUsd`, or what is available if that is less.
   * Settle it when the call ends, success or failure.
   */
  reserve(wantedUsd: number): Reservation {
    const amountUsd = floorUsd(Math.max(0, Math.min(wantedUsd, this.availableUsd)));
    const reservation = { amountUsd };
    this.reserved += amountUsd;
    this.open.add(reservation);
    return reservation;
  }

  /** Releases a reservation and charges what the call really cost. */
  settle(reservation: Reservation, call: ModelCallReport | undefined, breakers?: BreakerSnapshot[]): void {
    if (this.open.delete(reservation)) this.reserved = Math.max(0, this.reserved - reservation.amountUsd);
    this.charge(call);
    for (const breaker of breakers ?? call?.breakers ?? []) this.breakers.set(`${breaker.provider}/${breaker.model}`, breaker);
  }

  charge(call: ModelCallReport | undefined): void {
    if (!call) return;
    this.onCharge?.(call);
    this.spent += call.costUsd;
    this.tokens.input += call.usage.inputTokens;
    this.tokens.output += call.usage.outputTokens;
    if (call.cache === 'hit') this.cache.hits += 1;
    if (call.cache === 'miss') this.cache.misses += 1;
  }

  /** What a continued run carries over (no call is in flight at that point). */
  snapshot(): LedgerSnapshot {
    return { budgetUsd: this.budgetUsd, spentUsd: this.spent, tokens: { ...this.tokens }, cache: { ...this.cache }, breakers: [...this.breakers.values()] };
  }

  restore(snapshot: LedgerSnapshot): void {
    this.budgetUsd = snapshot.budgetUsd;
    this.spent = snapshot.spentUsd;
    Object.assign(this.tokens, snapshot.tokens);
    Object.assign(this.cache, snapshot.cache);
    for (const breaker of snapshot.breakers) this.breakers.set(`${breaker.provider}/${breaker.model}`, breaker);
  }

  get spentUsd(): number {
    return roundUsd(this.spent);
  }

  /** The budget minus what was spent (reservations aside). */
  get remainingUsd(): number {
    return Math.max(0, roundUsd(this.budgetUsd - this.spent));
  }

  /** What a new reservation can draw on: the budget minus what was spent and what is reserved. */
  get availableUsd(): number {
    return Math.max(0, roundUsd(this.budgetUsd - this.spent - this.reserved));
  }

  get reservedUsd(): number {
    return roundUsd(this.reserved);
  }

  get exhausted(): boolean {
    return this.remainingUsd < minimumReservationUsd;
  }
}

/** What a call of this ceiling can cost at most, for a prompt of about `promptChars` characters. */
export function worstCaseUsd(ceiling: TierCeiling, promptChars: number): number {
  const inputTokens = Math.ceil(promptChars / 4) + promptOverheadTokens;
  return (inputTokens * ceiling.inputPerMillion + ceiling.maxOutputTokens * ceiling.outputPerMillion) / 1_000_000;
}

/** System prompt and framing the workflow does not see. */
const promptOverheadTokens = 200;

/** Dollars to a millionth of a cent, so sums of float prices print and compare cleanly. */
export function roundUsd(value: number): number {
  return Math.round(value * 1e8) / 1e8;
}

/** Rounds down, so a reservation never exceeds what is available. */
function floorUsd(value: number): number {
  return Math.floor(value * 1e8) / 1e8;
}

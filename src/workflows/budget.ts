// Pure cost ledger. The workflow charges every model call here and checks it before scheduling.
import type { ModelCallReport, TokenCounts } from '../shared';

export class BudgetLedger {
  private spent = 0;
  readonly tokens: TokenCounts = { input: 0, output: 0 };

  constructor(
    public budgetUsd: number,
    /** Called for every charged call (the workflow records metrics; unit tests pass nothing). */
    private readonly onCharge?: (call: ModelCallReport) => void,
  ) {}

  /** A human approved spending more: the budget grows by `amountUsd`. */
  extend(amountUsd: number): void {
    this.budgetUsd = roundUsd(this.budgetUsd + amountUsd);
  }

  charge(call: ModelCallReport | undefined): void {
    if (!call) return;
    this.onCharge?.(call);
    this.spent += call.costUsd;
    this.tokens.input += call.usage.inputTokens;
    this.tokens.output += call.usage.outputTokens;
  }

  get spentUsd(): number {
    return roundUsd(this.spent);
  }

  get remainingUsd(): number {
    return Math.max(0, roundUsd(this.budgetUsd - this.spent));
  }

  get exhausted(): boolean {
    return this.remainingUsd <= 0;
  }
}

/** Dollars to a millionth of a cent, so sums of float prices print and compare cleanly. */
export function roundUsd(value: number): number {
  return Math.round(value * 1e8) / 1e8;
}

// Activity inputs scheduled by workflow code from before each budget quantity had one name: a
// worker of this version may still be handed one after a deploy, while such a run is in flight.

interface EarlierNames {
  reservedUsd?: number;
  /** This call's reservation, in runTask, synthesize and evaluate inputs. */
  remainingBudgetUsd?: number;
  /** This call's reservation, in plan inputs. */
  callBudgetUsd?: number;
  remainingUsd?: number;
  /** What is left of the run's budget, in plan inputs. */
  budgetUsd?: number;
}

/** The input with today's names: `reservedUsd` (this call's reservation) and, for a plan, `remainingUsd`. */
export function withCurrentNames<Input extends object>(input: Input): Input {
  const earlier = input as EarlierNames;
  return {
    ...input,
    ...(earlier.reservedUsd === undefined ? { reservedUsd: earlier.remainingBudgetUsd ?? earlier.callBudgetUsd ?? 0 } : {}),
    ...('allowedTools' in input && earlier.remainingUsd === undefined && earlier.budgetUsd !== undefined ? { remainingUsd: earlier.budgetUsd } : {}),
  };
}

import type { Usage } from '../shared';

/** US dollars per 1M tokens. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** List prices, US dollars per 1M tokens; `prices` in keel.config.json adds to and overrides them. */
export const defaultPrices: Record<string, ModelPrice> = {
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'claude-3-5-haiku-latest': { inputPerMillion: 0.8, outputPerMillion: 4 },
  'claude-sonnet-4-0': { inputPerMillion: 3, outputPerMillion: 15 },
};

/** Unknown models are priced as the most expensive known one, so budgets err on the safe side. */
export function priceOf(model: string, prices: Record<string, ModelPrice> = defaultPrices): ModelPrice {
  const known = prices[model];
  if (known) return known;
  const all = Object.values(prices);
  return {
    inputPerMillion: Math.max(...all.map((price) => price.inputPerMillion)),
    outputPerMillion: Math.max(...all.map((price) => price.outputPerMillion)),
  };
}

export function costOf(model: string, usage: Usage, prices?: Record<string, ModelPrice>): number {
  const price = priceOf(model, prices);
  return (usage.inputTokens * price.inputPerMillion + usage.outputTokens * price.outputPerMillion) / 1_000_000;
}

/** The most output tokens a call may produce without going over what is left of the budget. */
export function outputTokenCap(model: string, inputTokens: number, remainingUsd: number, prices?: Record<string, ModelPrice>): number {
  const price = priceOf(model, prices);
  const leftAfterInput = remainingUsd - (inputTokens * price.inputPerMillion) / 1_000_000;
  return Math.max(0, Math.floor((leftAfterInput * 1_000_000) / price.outputPerMillion));
}

/** A rough count for text whose usage a provider did not report: about four characters a token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

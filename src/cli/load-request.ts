import { readFileSync } from 'node:fs';
import { parseScenario, type AgentRequestInput } from '../shared';
import { CliError } from './cli-error';

export interface RunCommandOptions {
  scenario?: string;
  budget?: string;
  id?: string;
  tools?: string;
  input?: string;
  /** false with --no-cache. */
  cache?: boolean;
}

/** The request `keel run` starts: the scenario's, or one built from GOAL, with flags applied on top. */
export function loadRequest(goal: string | undefined, options: RunCommandOptions): AgentRequestInput {
  let request: AgentRequestInput;
  if (options.scenario) {
    let text: string;
    try {
      text = readFileSync(options.scenario, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read scenario ${options.scenario}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} — check the path`);
    }
    request = parseScenario(text, options.scenario).request;
    if (goal) request = { ...request, goal };
  } else {
    if (!goal) throw new CliError('say what to do: `keel run "GOAL"`, or run a scenario with `keel run --scenario FILE`');
    request = { goal };
  }
  if (options.budget !== undefined) {
    const budgetUsd = Number(options.budget);
    if (!Number.isFinite(budgetUsd)) throw new CliError(`--budget must be a number of US dollars, e.g. 0.50 (got "${options.budget}")`);
    request = { ...request, budgetUsd };
  }
  if (options.cache === false) request = { ...request, cache: false };
  if (options.id) request = { ...request, idempotencyKey: options.id };
  if (options.tools) request = { ...request, tools: options.tools.split(',').map((tool) => tool.trim()).filter(Boolean) };
  if (options.input) {
    try {
      request = { ...request, input: JSON.parse(options.input) as Record<string, unknown> };
    } catch (error) {
      throw new CliError(`--input must be a JSON object, e.g. '{"customer":"ACME"}' (${(error as Error).message})`);
    }
  }
  return request;
}

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
  /** A JSON file with the run's own plan, `{ "tasks": [...] }`. */
  plan?: string;
  outputFrom?: string;
  /** The run is one agent loop over --tools. */
  agent?: boolean;
  maxSteps?: string;
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
  if (options.plan) {
    const plan = readPlan(options.plan);
    request = { ...request, plan };
    // The plan's author is the one starting it: its tools are allowed unless --tools says otherwise.
    if (!options.tools && (request.tools ?? []).length === 0) request = { ...request, tools: toolsOf(plan) };
  }
  if (options.outputFrom) request = { ...request, outputFrom: options.outputFrom };
  if (options.budget !== undefined) {
    // Decimal only: Number() would also read "0x10" as 16 and "1e3" as 1000.
    if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(options.budget.trim())) throw new CliError(`--budget must be a decimal number of US dollars, e.g. 0.50 (got "${options.budget}")`);
    const budgetUsd = Number(options.budget);
    request = { ...request, budgetUsd };
  }
  if (options.maxSteps !== undefined && !options.agent && !request.agent) throw new CliError('--max-steps goes with --agent: `keel run "GOAL" --agent --tools a,b --max-steps 5`');
  if (options.agent || options.maxSteps !== undefined) {
    if (options.maxSteps !== undefined && !/^\d+$/.test(options.maxSteps)) throw new CliError(`--max-steps takes a whole number from 1 to 50 (got "${options.maxSteps}")`);
    request = { ...request, agent: { ...request.agent, ...(options.maxSteps !== undefined ? { maxSteps: Number(options.maxSteps) } : {}) } };
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

function readPlan(file: string): NonNullable<AgentRequestInput['plan']> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read plan ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} — check the path`);
  }
  try {
    // Its shape is checked with the rest of the request, so every problem is listed at once; the
    // editor's "$schema" (schemas/plan.schema.json) is not part of it.
    const plan = JSON.parse(text) as NonNullable<AgentRequestInput['plan']> & { $schema?: unknown };
    if (plan !== null && typeof plan === 'object' && '$schema' in plan) delete plan.$schema;
    return plan;
  } catch (error) {
    throw new CliError(`plan ${file} is not valid JSON (${(error as Error).message}): it holds { "tasks": [ ... ] }`);
  }
}

function toolsOf(plan: unknown): string[] {
  const tasks = (plan as { tasks?: unknown } | null)?.tasks;
  if (!Array.isArray(tasks)) return [];
  const names = tasks.flatMap((task: { tool?: unknown; fallbackTool?: unknown } | null) => [task?.tool, task?.fallbackTool]);
  return [...new Set(names.filter((name): name is string => typeof name === 'string' && name.length > 0))];
}

import { z } from 'zod';
import { AgentRequestSchema, describeIssues, type AgentRequest } from './request';
import { DecisionSchema } from './decision';
import { ScriptSchema } from './scenario';
import { requestProblems } from './request-problems';

/** A scenario file: a request plus a scripted model and scripted tools (ARCHITECTURE.md). */
export const ScenarioFileSchema = z
  .object({
    /** The JSON Schema editors check the file against (schemas/scenario.schema.json); not read otherwise. */
    $schema: z.string().optional(),
    name: z.string().min(1, 'a scenario needs a name'),
    description: z.string().optional(),
    request: AgentRequestSchema.omit({ scenario: true }),
    model: ScriptSchema.shape.model,
    tools: ScriptSchema.shape.tools,
    /** What the run should end with, and the decisions to give when it escalates (demos, tests). */
    expect: z
      .object({
        status: z.enum(['completed', 'partial', 'rejected', 'failed', 'budget_exhausted']),
        decisions: z.array(DecisionSchema).default([]),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ScenarioFile = z.output<typeof ScenarioFileSchema>;

export class InvalidScenarioError extends Error {
  override readonly name = 'InvalidScenarioError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`scenario ${source} is not valid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** Parses a scenario (already read as text) into the request it runs. */
export function parseScenario(text: string, source: string): { name: string; request: AgentRequest; expect?: ScenarioFile['expect'] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidScenarioError(source, [`not valid JSON: ${(error as Error).message}`]);
  }
  const parsed = ScenarioFileSchema.safeParse(raw);
  if (!parsed.success) {
    const nested = parsed.error.issues.filter(isNestedScript);
    const others = describeIssues(new z.ZodError(parsed.error.issues.filter((issue) => !isNestedScript(issue))));
    throw new InvalidScenarioError(source, [...nested.map(nestedScriptProblem), ...others]);
  }
  const { name, request, model, tools, expect } = parsed.data;
  const problems = requestProblems(request);
  if (problems.length > 0) throw new InvalidScenarioError(source, problems.map((problem) => `request.${problem}`));
  return { name, request: { ...request, scenario: { model, tools } }, ...(expect ? { expect } : {}) };
}

// A request's `scenario` (as the SDK and webhooks take it) pasted into a file, where the script
// lives at the top level: say where it goes, not zod's bare "Unrecognized key".
function isNestedScript(issue: z.core.$ZodIssue): issue is z.core.$ZodIssueUnrecognizedKeys {
  return issue.code === 'unrecognized_keys' && issue.path.length === 1 && issue.path[0] === 'request' && issue.keys.includes('scenario');
}

function nestedScriptProblem(issue: z.core.$ZodIssueUnrecognizedKeys): string {
  const others = issue.keys.filter((key) => key !== 'scenario');
  const alsoUnknown = others.length > 0 ? `; request also has unknown key(s) ${others.map((key) => `"${key}"`).join(', ')}` : '';
  return `request.scenario: a scenario file keeps its script at the top level: move request.scenario.model to "model" and request.scenario.tools to "tools"${alsoUnknown}`;
}

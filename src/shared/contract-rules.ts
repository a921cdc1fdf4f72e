// The rules of a contract that a JSON Schema cannot say. Each is written once, here, free of zod:
// the zod schemas call it through superRefine, and the workflow's checker (src/workflows/contracts.ts)
// calls it by the name the generated schema carries (`"x-keel": { "rule": NAME }`).

/** One problem a rule finds: the path under the value it was given, and what to say. */
export interface RuleProblem {
  path: Array<string | number>;
  message: string;
}

type Rule = (value: Record<string, unknown>) => RuleProblem[];

export const contractRules = {
  /** A tool task names its tool, and an agent task its tools. */
  'task-names-its-tool': (task) => {
    const problems: RuleProblem[] = [];
    const tools = task.tools;
    if (task.kind === 'tool' && !task.tool) problems.push({ path: ['tool'], message: `task ${String(task.id)} is a tool task but names no tool` });
    if (task.kind === 'agent' && !(Array.isArray(tools) && tools.length > 0)) {
      problems.push({ path: ['tools'], message: `task ${String(task.id)} is an agent task but names no tools` });
    }
    return problems;
  },
  /** A scripted response has no `fail` key: an entry with one is a failure entry, and a wrong one. */
  'not-a-failure-entry': (entry) => ('fail' in entry ? [{ path: [], message: 'not a valid failure entry' }] : []),
} satisfies Record<string, Rule>;

export type ContractRuleName = keyof typeof contractRules;
export const isContractRuleName = (name: unknown): name is ContractRuleName => typeof name === 'string' && Object.hasOwn(contractRules, name);

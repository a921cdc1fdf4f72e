// Each contract is defined once, in zod (src/shared); the workflow checks its input with a small
// checker (src/workflows/contracts.ts) that reads the JSON Schemas `npm run build` derives from those
// schemas. Here the checker must give zod's answer, value and messages for every input fast-check
// makes: valid ones, boundary values, wrong types, unknown keys (SEED=n picks other inputs). The
// generated file must be what the zod schemas say today, and zod must stay out of the workflow bundle.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { z } from 'zod';
import { AgentRequestSchema, DecisionSchema, describeIssues, failureKinds, PlanSchema, ReplanRequestSchema } from '../../src/shared';
import { workflowContractSchemasText } from '../../src/shared/contract-schemas';
import { checkAgentRequest, checkDecision, checkPlan, checkReplanRequest, type Checked } from '../../src/workflows/contracts';

const runs = 3_000;
const numbers = fc.oneof(
  fc.constantFrom(-1, 0, 0.5, 1, 1.5, 2, 5, 6, 9, 10, 11, 20, 21, 500, 501, 999, 1_000, 4_000, 10_000, 10_001, 50_000, 50_001, 600_000, 600_001, 3_600_000, 3_600_001, 86_400_000, 2_592_000_000, 2_592_000_001, 2 ** 53),
  fc.integer({ min: -10, max: 1_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const strings = fc.oneof(fc.constantFrom('', ' ', '  x  ', 'a', 'ok', 'a b', 'x'.repeat(201), 'x'.repeat(4_001)), fc.string({ maxLength: 8 }));
const anything = fc.oneof(numbers, strings, fc.boolean(), fc.constant(null), fc.array(strings, { maxLength: 3 }), fc.dictionary(strings, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }));
/** A field's value: mostly a valid one, sometimes a boundary (edge) or any other JSON. */
const field = <T>(valid: fc.Arbitrary<T>, edge: fc.Arbitrary<unknown> = anything) =>
  fc.oneof({ weight: 20, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: edge }, { weight: 1, arbitrary: anything });
const int = (min: number, max: number) => field(fc.integer({ min, max }), numbers);
const text = (valid: fc.Arbitrary<string> = fc.string({ minLength: 1, maxLength: 8 })) => field(valid, strings);
/** Objects: fields often absent; now and then an unknown key, or a name that lives on Object.prototype. */
const withNoise = <T extends object>(arbitrary: fc.Arbitrary<T>) =>
  fc.tuple(arbitrary, fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('extra', 'constructor', '__proto__', 'toString', 'scenarioo', 'fail'), anything) })).map(([value, noise]) => {
    if (!noise) return value;
    const copy = { ...value } as Record<string, unknown>;
    Object.defineProperty(copy, noise[0], { value: noise[1], enumerable: true, writable: true, configurable: true });
    return copy;
  });
const shape = <T>(fields: { [K in keyof T]: fc.Arbitrary<T[K]> }, requiredKeys: Array<keyof T>) =>
  fc.oneof({ weight: 9, arbitrary: withNoise(fc.record(fields, { requiredKeys })) }, { weight: 1, arbitrary: withNoise(fc.record(fields, { requiredKeys: [] })) });

const failure = shape({ fail: field(fc.constantFrom(...failureKinds), fc.constant('kaboom')), message: text(), retryAfterMs: int(0, 60_000), delayMs: int(0, 600_000) }, ['fail']);
const usage = shape({ inputTokens: int(0, 1_000), outputTokens: int(0, 1_000), cached: strings }, ['inputTokens', 'outputTokens']);
const response = shape(
  { text: strings, json: fc.jsonValue({ maxDepth: 2 }), usage: field(usage), model: text(), delayMs: int(0, 600_000), verdict: strings },
  [],
);
const modelEntry = field(fc.oneof(failure, response));
const toolEntry = field(fc.oneof(failure, shape({ result: fc.jsonValue({ maxDepth: 2 }), delayMs: int(0, 600_000) }, ['result'])));
const entries = (entry: fc.Arbitrary<unknown>) => field(fc.array(entry, { minLength: 1, maxLength: 3 }), fc.constant([]));
const script = shape(
  { model: field(fc.dictionary(fc.constantFrom('plan', 'synthesize', 'task:a', ''), entries(modelEntry), { maxKeys: 3 })), tools: field(fc.dictionary(fc.constantFrom('crm', 'x'), entries(toolEntry), { maxKeys: 2 })) },
  [],
);
const deadlines = fc.oneof(
  fc.constantFrom('2026-12-01T12:00:00Z', '2026-12-01T12:00:00.123+05:30', '2028-02-29T00:00:00Z', '2027-02-29T00:00:00Z', '2026-12-01T12:00Z', '2026-12-01', '2026-13-01T00:00:00Z', '2026-12-01T24:00:00Z', '2026-12-01T12:00:00+24:00', '2026-12-01t12:00:00z', 'tomorrow'),
  fc.date({ noInvalidDate: true, min: new Date('1000-01-01'), max: new Date('9999-12-31') }).map((date) => date.toISOString()),
);
const tiers = field(fc.constantFrom('small', 'medium', 'large'), fc.constant('huge'));
const task = shape(
  {
    id: field(fc.constantFrom('a', 'b.c', 'd-e', 'x'.repeat(64)), fc.constantFrom('x'.repeat(65), 'has space', '')),
    kind: field(fc.constantFrom('llm', 'tool', 'human_review', 'agent'), fc.constant('robot')),
    description: text(fc.constant('do it')),
    tool: text(fc.constantFrom('crm', 'search')),
    input: field(fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 })),
    dependsOn: field(fc.array(fc.constantFrom('a', 'b.c'), { maxLength: 2 })),
    critical: field(fc.boolean()),
    tier: tiers,
    purpose: field(fc.constantFrom('classification', 'analysis', 'generation'), fc.constant('poetry')),
    timeoutMs: int(1, 3_600_000),
    maxAttempts: int(1, 20),
    successCriteria: text(),
    estimatedCostUsd: field(fc.double({ min: 0, max: 5, noNaN: true }), numbers),
    fallbackTool: text(fc.constant('backup')),
    consensus: int(2, 5),
    requiredFields: field(fc.array(fc.constantFrom('summary', 'score'), { maxLength: 2 }), fc.constant([''])),
    tools: field(fc.array(fc.constantFrom('crm', 'search'), { minLength: 1, maxLength: 2 }), fc.constantFrom([], [''])),
    maxSteps: int(1, 50),
  },
  ['id', 'kind', 'description'],
);
const outputFrom = field(fc.constantFrom('a', 'b.c'), fc.constantFrom('x'.repeat(65), 'has space', ''));
const plan = shape({ tasks: field(fc.array(task, { minLength: 1, maxLength: 3 }), fc.constant([])), rationale: text(), outputFrom }, ['tasks']);
const request = shape(
  {
    goal: field(fc.constantFrom('answer', '  padded  ', '\u2060x'), fc.oneof(strings, fc.constantFrom('\u200b\u200b', ' \u200b ', 'x'.repeat(10_001)))),
    input: field(fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 })),
    tools: field(fc.array(fc.constantFrom('crm', 'search'), { maxLength: 3 }), fc.array(strings, { maxLength: 2 })),
    budgetUsd: field(fc.double({ min: 0.01, max: 10_000, noNaN: true }), numbers),
    maxTasks: int(1, 500),
    deadline: field(deadlines),
    idempotencyKey: field(fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,8}$/), fc.constantFrom('k'.repeat(200), 'k'.repeat(201), 'has space', '')),
    maxReplans: int(0, 10),
    escalation: field(shape({ timeoutMs: int(1_000, 2_592_000_000), defaultAction: field(fc.constantFrom('approve', 'reject', 'skip'), fc.constant('retry')) }, [])),
    cache: field(fc.boolean()),
    tiers: field(fc.dictionary(fc.constantFrom('a', 'analysis'), tiers, { maxKeys: 2 }), fc.constant({ '': 'small' })),
    maxHistoryEvents: int(10, 50_000),
    // Seldom there: a random plan is mostly invalid, and would leave too few valid requests.
    plan: fc.oneof({ weight: 1, arbitrary: field(plan) }, { weight: 4, arbitrary: fc.constant(undefined) }),
    outputFrom,
    agent: fc.oneof({ weight: 1, arbitrary: field(shape({ maxSteps: int(1, 50), maxToolCalls: int(1, 500) }, [])) }, { weight: 3, arbitrary: fc.constant(undefined) }),
    approvals: fc.oneof({ weight: 1, arbitrary: field(shape({ tools: field(fc.array(fc.constantFrom('crm', 'refund'), { maxLength: 2 }), fc.constant([''])) }, [])) }, { weight: 3, arbitrary: fc.constant(undefined) }),
    scenario: field(script),
  },
  ['goal'],
);
const decision = shape(
  { decision: field(fc.constantFrom('approve', 'reject', 'replan', 'retry', 'skip'), fc.constant('maybe')), taskId: text(), note: text(), guidance: text(), by: text(), budgetUsd: field(fc.double({ min: 0.01, max: 10_000, noNaN: true }), numbers), input: field(fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 })) },
  ['decision'],
);
const replan = shape({ guidance: text(), by: text() }, ['guidance']);

/** The fields zod's issues name, as "path" strings like the workflow's. */
const zodPaths = (error: z.ZodError) => [...new Set(error.issues.map((issue) => (issue.path.length > 0 ? issue.path.join('.') : '(root)')))].sort();
const ownPaths = (issues: string[]) => [...new Set(issues.map((issue) => issue.slice(0, issue.indexOf(': '))))].sort();

function agree(schema: z.ZodType, check: (value: unknown) => Checked<unknown>, arbitrary: fc.Arbitrary<unknown>): { accepted: number; rejected: number } {
  const counts = { accepted: 0, rejected: 0 };
  fc.assert(
    fc.property(fc.oneof({ weight: 9, arbitrary }, { weight: 1, arbitrary: fc.jsonValue() }), (value) => {
      const theirs = schema.safeParse(value);
      const ours = check(value);
      expect({ accepted: ours.success, value }).toEqual({ accepted: theirs.success, value });
      if (theirs.success && ours.success) {
        expect(ours.data).toEqual(theirs.data);
        counts.accepted += 1;
      } else if (!theirs.success && !ours.success) {
        // Every field the workflow names is one zod names too (zod may add more: it does not stop at the first problem in a union).
        expect(zodPaths(theirs.error)).toEqual(expect.arrayContaining(ownPaths(ours.issues)));
        // Where each side has one problem a field, they are the same problems in the same words.
        const theirIssues = describeIssues(theirs.error);
        if (ownPaths(ours.issues).length === ours.issues.length && zodPaths(theirs.error).length === theirIssues.length) expect(ours.issues).toEqual(theirIssues);
        expect(ours.issues.length).toBeGreaterThan(0);
        counts.rejected += 1;
      }
    }),
    { numRuns: runs, seed: Number(process.env.SEED ?? 7) },
  );
  return counts;
}

test.each([
  ['request', AgentRequestSchema, checkAgentRequest, request],
  ['plan', PlanSchema, checkPlan, plan],
  ['decision', DecisionSchema, checkDecision, decision],
  ['replan', ReplanRequestSchema, checkReplanRequest, replan],
] as const)('the workflow checks a %s as zod does: same verdict, same value', (_name, schema, check, arbitrary) => {
  const counts = agree(schema as z.ZodType, check as (value: unknown) => Checked<unknown>, arbitrary as fc.Arbitrary<unknown>);
  // Both sides of the contract are exercised, not just rejections.
  expect(counts.accepted).toBeGreaterThan(runs / 20);
  expect(counts.rejected).toBeGreaterThan(runs / 20);
});

test('the messages a user reads are the schema messages, word for word as zod says them', () => {
  const rejected = (result: Checked<unknown>) => (result.success ? [] : result.issues);
  const samples: Array<[z.ZodType, (value: unknown) => Checked<unknown>, unknown]> = [
    [AgentRequestSchema, checkAgentRequest, { goal: '   ' }],
    [AgentRequestSchema, checkAgentRequest, { goal: 'g', budgetUsd: 0, deadline: 'tomorrow', scenario: {} }],
    [AgentRequestSchema, checkAgentRequest, { goal: 'g', request: {} }],
    [AgentRequestSchema, checkAgentRequest, { goal: 'g', outputFrom: 'has space', idempotencyKey: 'has space', maxTasks: 1.5 }],
    [PlanSchema, checkPlan, { tasks: [] }],
    [PlanSchema, checkPlan, { tasks: [{ id: 'a', kind: 'tool', description: 'd' }, { id: 'b', kind: 'agent', description: 'd' }] }],
    [DecisionSchema, checkDecision, { decision: 'maybe' }],
    [DecisionSchema, checkDecision, { decision: 'approve', budgetUsd: -1, note: 'n'.repeat(4_001) }],
  ];
  for (const [schema, check, value] of samples) expect(rejected(check(value))).toEqual(describeIssues(schema.safeParse(value).error!));
  expect(rejected(checkAgentRequest({ goal: 'g', budgetUsd: 0, deadline: 'tomorrow' }))).toEqual([
    'budgetUsd: budgetUsd must be more than 0',
    'deadline: deadline must be an ISO-8601 date-time such as 2026-12-01T12:00:00Z',
  ]);
  expect(rejected(checkPlan({ tasks: [{ id: 'a', kind: 'tool', description: 'd' }] }))).toEqual(['tasks.0.tool: task a is a tool task but names no tool']);
  // A request's own plan is written by a person: a misspelt key is reported, where a model's extra keys are dropped.
  const typo = { goal: 'g', plan: { tasks: [{ id: 'a', kind: 'llm', description: 'd', dependson: ['b'] }] } };
  expect(rejected(checkAgentRequest(typo))).toEqual(['plan.tasks.0: Unrecognized key: "dependson"']);
  expect(checkPlan(typo.plan).success).toBe(true);
  expect(rejected(checkAgentRequest({ goal: 'g', scenario: { tools: { x: [{ fail: 'kaboom' }] } } }))[0]).toMatch(/^scenario\.tools\.x\.0: a tool entry is/);
});

test('the workflow reads the JSON Schemas the zod schemas give today (npm run build writes them)', () => {
  expect(readFileSync('src/workflows/contract-schemas.json', 'utf8')).toBe(workflowContractSchemasText());
});

test('a "__proto__" key in the input is dropped, as zod drops it', () => {
  const result = checkAgentRequest(JSON.parse('{"goal":"g","input":{"__proto__":{"polluted":true},"k":1},"scenario":{"model":{"plan":[{"text":"t","__proto__":{"polluted":true}}]}}}'));
  expect(result.success && result.data.input).toEqual({ k: 1 });
  expect(result.success && Object.getPrototypeOf(result.data.scenario!.model.plan![0])).toBe(Object.prototype);
  expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
});

test('the workflow bundle carries no zod', () => {
  const bundle = readFileSync(process.env.KEEL_TEST_WORKFLOW_BUNDLE!, 'utf8');
  expect(bundle).toContain('src/workflows/contracts.ts');
  expect(bundle).not.toMatch(/node_modules\/zod\//);
});

// The workflow's own checks of what reaches it from outside: the request, a plan, a decision, a
// replan. They mirror the zod schemas in src/shared, which the client, the ingest server and the
// activities use; the workflow cannot afford zod, because the SDK evaluates a bundle's modules
// afresh for every run and zod with Keel's schemas was ~12 ms of worker CPU a run and a copy in
// memory per cached run. test/unit/workflow-contracts.test.ts holds the two to the same answers.
import { type AgentRequest, type Decision, type Plan, type ReplanRequest, type Script, type Task, agentLimits, decisionKinds, failureKinds, goalMaxChars, goalMessages, idempotencyKeyPattern, outputFromMessage, visibleCharacter, requestDefaults, scriptedEntryMessages, taskIdPattern, taskPurposes } from '../shared/workflow';

export type Checked<T> = { success: true; data: T } | { success: false; issues: string[]; data?: undefined };

type Path = ReadonlyArray<string | number>;
/**
 * One problem. A type error (wrong type, a missing field, a value not among the options) stops
 * that part of the value; a failed check (too small, a pattern, an unknown key) does not, and a
 * union names the one option that failed only checks, as zod does.
 */
interface Issue {
  path: Path;
  message: string;
  typeError: boolean;
}
/** Marks a value that failed; its issue is already recorded. */
const bad = Symbol('bad');
type Out<T> = T | typeof bad;
type Check<T> = (value: unknown, path: Path, issues: Issue[]) => Out<T>;

function typeError(issues: Issue[], path: Path, message: string): typeof bad {
  issues.push({ path, message, typeError: true });
  return bad;
}
function failedCheck(issues: Issue[], path: Path, message: string): typeof bad {
  issues.push({ path, message, typeError: false });
  return bad;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** Copies a key of the input, except "__proto__" (JSON.parse makes own ones), which zod drops too. */
const copyKey = (target: Record<string, unknown>, name: string, value: unknown): void => {
  if (name !== '__proto__') target[name] = value;
};
const received = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/** `message` words every failed check; `messages` one check at a time. */
function string(
  rules: { min?: number; max?: number; trim?: boolean; pattern?: RegExp; message?: string; messages?: { min?: string; max?: string; pattern?: string } } = {},
): Check<string> {
  return (value, path, issues) => {
    if (typeof value !== 'string') return typeError(issues, path, `Invalid input: expected string, received ${received(value)}`);
    const text = rules.trim ? value.trim() : value;
    const say = (check: 'min' | 'max' | 'pattern', fallback: string) => rules.messages?.[check] ?? rules.message ?? fallback;
    if (rules.min !== undefined && text.length < rules.min) return failedCheck(issues, path, say('min', `Too small: expected string to have >=${rules.min} characters`));
    if (rules.max !== undefined && text.length > rules.max) return failedCheck(issues, path, say('max', `Too big: expected string to have <=${rules.max} characters`));
    if (rules.pattern && !rules.pattern.test(text)) return failedCheck(issues, path, say('pattern', `Invalid string: must match pattern ${rules.pattern}`));
    return text;
  };
}

function number(rules: { int?: boolean; min?: number; max?: number; above?: number; message?: string } = {}): Check<number> {
  return (value, path, issues) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return typeError(issues, path, `Invalid input: expected number, received ${received(value)}`);
    if (rules.int) {
      if (!Number.isInteger(value)) return typeError(issues, path, 'Invalid input: expected int, received number');
      if (value < Number.MIN_SAFE_INTEGER) return failedCheck(issues, path, `Too small: expected int to be >=${Number.MIN_SAFE_INTEGER}`);
      if (value > Number.MAX_SAFE_INTEGER) return failedCheck(issues, path, `Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`);
    }
    if (rules.above !== undefined && !(value > rules.above)) return failedCheck(issues, path, rules.message ?? `Too small: expected number to be >${rules.above}`);
    if (rules.min !== undefined && value < rules.min) return failedCheck(issues, path, `Too small: expected number to be >=${rules.min}`);
    if (rules.max !== undefined && value > rules.max) return failedCheck(issues, path, `Too big: expected number to be <=${rules.max}`);
    return value;
  };
}

const boolean: Check<boolean> = (value, path, issues) => (typeof value === 'boolean' ? value : typeError(issues, path, `Invalid input: expected boolean, received ${received(value)}`));
const unknownValue: Check<unknown> = (value) => value;

function oneOf<T extends string>(options: readonly T[]): Check<T> {
  return (value, path, issues) =>
    typeof value === 'string' && (options as readonly string[]).includes(value) ? (value as T) : typeError(issues, path, `Invalid option: expected one of ${options.map((option) => JSON.stringify(option)).join('|')}`);
}

function array<T>(item: Check<T>, rules: { min?: number; message?: string } = {}): Check<T[]> {
  return (value, path, issues) => {
    if (!Array.isArray(value)) return typeError(issues, path, `Invalid input: expected array, received ${received(value)}`);
    const out: T[] = [];
    let failed = false;
    value.forEach((element, index) => {
      const checked = item(element, [...path, index], issues);
      if (checked === bad) failed = true;
      else out.push(checked);
    });
    if (rules.min !== undefined && value.length < rules.min) return failedCheck(issues, path, rules.message ?? `Too small: expected array to have >=${rules.min} items`);
    return failed ? bad : out;
  };
}

function record<T>(entry: Check<T>, key: Check<string> = unknownValue as Check<string>): Check<Record<string, T>> {
  return (value, path, issues) => {
    if (!isObject(value)) return typeError(issues, path, `Invalid input: expected record, received ${received(value)}`);
    const out: Record<string, T> = {};
    let failed = false;
    for (const [name, element] of Object.entries(value)) {
      const checkedKey = key(name, [...path, name], issues);
      const checked = entry(element, [...path, name], issues);
      if (checkedKey === bad || checked === bad) failed = true;
      else copyKey(out, name, checked);
    }
    return failed ? bad : out;
  };
}

/** A field: its check, and what an absent field becomes (left out when optional, the default otherwise). */
interface Field<T> {
  check: Check<T>;
  optional?: boolean;
  default?: () => T;
}
const optional = <T>(check: Check<T>): Field<T> => ({ check, optional: true });
const withDefault = <T>(check: Check<T>, value: () => T): Field<T> => ({ check, default: value });
const required = <T>(check: Check<T>): Field<T> => ({ check });

/**
 * An object of known fields. strict: other keys are an error; strip: dropped; keep: passed through.
 * refine sees the value as given when no field had a type error.
 */
function object<T>(fields: Record<string, Field<unknown>>, unknownKeys: 'strict' | 'strip' | 'keep', refine?: (value: T, path: Path, issues: Issue[]) => boolean): Check<T> {
  return (value, path, issues) => {
    if (!isObject(value)) return typeError(issues, path, `Invalid input: expected object, received ${received(value)}`);
    const out: Record<string, unknown> = {};
    const before = issues.length;
    for (const [name, field] of Object.entries(fields)) {
      const given = value[name];
      if (given === undefined) {
        if (field.default) out[name] = field.default();
        else if (!field.optional && field.check(undefined, [...path, name], issues) !== bad) typeError(issues, [...path, name], 'Invalid input: required');
        continue;
      }
      const checked = field.check(given, [...path, name], issues);
      out[name] = checked === bad ? given : checked;
    }
    const others = Object.keys(value).filter((name) => !Object.hasOwn(fields, name));
    if (unknownKeys === 'keep') for (const name of others) copyKey(out, name, value[name]);
    if (unknownKeys === 'strict' && others.length > 0) {
      failedCheck(issues, path, `Unrecognized key${others.length > 1 ? 's' : ''}: ${others.map((name) => JSON.stringify(name)).join(', ')}`);
    }
    if (refine && !issues.slice(before).some((issue) => issue.typeError)) refine(out as T, path, issues);
    return issues.length > before ? bad : (out as T);
  };
}

/**
 * The first of the options that fits. When none does: the problems of the one option that failed
 * only checks, if there is exactly one, else one message for the whole value.
 */
function firstOf<T>(options: Check<T>[], message: string): Check<T> {
  return (value, path, issues) => {
    const attempts: Issue[][] = [];
    for (const option of options) {
      const own: Issue[] = [];
      const checked = option(value, path, own);
      if (checked !== bad) return checked;
      attempts.push(own);
    }
    const onlyChecksFailed = attempts.filter((own) => own.every((issue) => !issue.typeError));
    if (onlyChecksFailed.length === 1) {
      issues.push(...onlyChecksFailed[0]!);
      return bad;
    }
    return typeError(issues, path, message);
  };
}

const delayMs = optional(number({ int: true, min: 0, max: 600_000 }));
const scriptedFailure = object(
  {
    fail: required(oneOf(failureKinds)),
    message: optional(string()),
    retryAfterMs: optional(number({ int: true, min: 0 })),
    delayMs,
  },
  'strict',
);
const usage = object({ inputTokens: required(number({ int: true, min: 0 })), outputTokens: required(number({ int: true, min: 0 })) }, 'strip');
const scriptedResponse = object<Record<string, unknown>>({ usage: optional(usage), model: optional(string()), delayMs }, 'keep', (entry, path, issues) =>
  'fail' in entry ? failedCheck(issues, path, 'not a valid failure entry') !== bad : true,
);
const modelEntry = firstOf([scriptedFailure, scriptedResponse], scriptedEntryMessages.model);
const toolEntry = firstOf([scriptedFailure, object({ result: required(unknownValue), delayMs }, 'strict')], scriptedEntryMessages.tool);
const entryList = <T>(entry: Check<T>) => array(entry, { min: 1, message: 'give at least one entry' });
const script = object<Script>({ model: withDefault(record(entryList(modelEntry)), () => ({})), tools: withDefault(record(entryList(toolEntry)), () => ({})) }, 'strip');

const tier = oneOf(['small', 'medium', 'large'] as const);
// From RFC 3339 as zod checks it (z.iso.datetime({ offset: true })): a real calendar date, seconds, Z or ±hh:mm.
const datePart =
  '(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))';
const dateTimePattern = new RegExp(`^${datePart}T(?:(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z|([+-](?:[01]\\d|2[0-3]):[0-5]\\d)))$`);

const taskFields: Record<string, Field<unknown>> = {
  id: required(string({ pattern: taskIdPattern, message: 'task ids are 1-64 letters, digits, "_", "." or "-"' })),
  kind: required(oneOf(['llm', 'tool', 'human_review', 'agent'] as const)),
  description: required(string({ min: 1, message: 'a task needs a description' })),
  tool: optional(string({ min: 1 })),
  input: optional(record(unknownValue)),
  dependsOn: withDefault(array(string()), () => []),
  critical: withDefault(boolean, () => true),
  tier: optional(tier),
  purpose: optional(oneOf(taskPurposes)),
  timeoutMs: optional(number({ int: true, above: 0, max: 3_600_000 })),
  maxAttempts: optional(number({ int: true, min: 1, max: 20 })),
  successCriteria: optional(string()),
  estimatedCostUsd: optional(number({ min: 0 })),
  fallbackTool: optional(string({ min: 1 })),
  consensus: optional(number({ int: true, min: 2, max: 5 })),
  requiredFields: optional(array(string({ min: 1 }))),
  tools: optional(array(string({ min: 1 }))),
  maxSteps: optional(number({ int: true, min: 1, max: agentLimits.maxSteps })),
};
const namesItsTool = (checked: Task, path: Path, issues: Issue[]): boolean => {
  let ok = true;
  if (checked.kind === 'tool' && !checked.tool) ok = failedCheck(issues, [...path, 'tool'], `task ${checked.id} is a tool task but names no tool`) !== bad;
  if (checked.kind === 'agent' && !checked.tools?.length) ok = failedCheck(issues, [...path, 'tools'], `task ${checked.id} is an agent task but names no tools`) !== bad && ok;
  return ok;
};
const task = object<Task>(taskFields, 'strip', namesItsTool);

const planTasks = (check: Check<Task>) => required(array(check, { min: 1, message: 'a plan needs at least one task' }));
const outputFrom = optional(string({ pattern: taskIdPattern, message: outputFromMessage }));
const plan = object<Plan>({ tasks: planTasks(task), rationale: optional(string()), outputFrom }, 'strip');
/** A request's own plan (SuppliedPlanSchema): written by a person, so an unknown key is an error. */
const suppliedPlan = object<Plan>({ tasks: planTasks(object<Task>(taskFields, 'strict', namesItsTool)), rationale: optional(string()), outputFrom }, 'strict');

const agentRequest = object<AgentRequest>(
  {
    goal: required(
      string({ trim: true, min: 1, max: goalMaxChars, pattern: visibleCharacter, messages: { min: goalMessages.required, max: goalMessages.tooLong, pattern: goalMessages.invisible } }),
    ),
    input: withDefault(record(unknownValue), () => ({})),
    tools: withDefault(array(string({ min: 1 })), () => []),
    budgetUsd: withDefault(number({ above: 0, max: 10_000, message: 'budgetUsd must be more than 0' }), () => requestDefaults.budgetUsd),
    maxTasks: withDefault(number({ int: true, min: 1, max: 500 }), () => requestDefaults.maxTasks),
    deadline: optional(string({ pattern: dateTimePattern, message: 'deadline must be an ISO-8601 date-time such as 2026-12-01T12:00:00Z' })),
    idempotencyKey: optional(string({ pattern: idempotencyKeyPattern, message: 'idempotencyKey is 1-200 letters, digits or _ . : @ -' })),
    maxReplans: withDefault(number({ int: true, min: 0, max: 10 }), () => 2),
    escalation: withDefault(
      object(
        {
          timeoutMs: withDefault(number({ int: true, min: 1_000, max: 30 * 86_400_000 }), () => 86_400_000),
          defaultAction: withDefault(oneOf(['approve', 'reject', 'skip'] as const), () => 'reject' as const),
        },
        'strict',
      ),
      () => ({ timeoutMs: 86_400_000, defaultAction: 'reject' as const }),
    ),
    cache: withDefault(boolean, () => true),
    tiers: withDefault(record(tier, string({ min: 1 })), () => ({})),
    maxHistoryEvents: optional(number({ int: true, min: 10, max: 50_000 })),
    plan: optional(suppliedPlan),
    outputFrom,
    agent: optional(
      object(
        { maxSteps: optional(number({ int: true, min: 1, max: agentLimits.maxSteps })), maxToolCalls: optional(number({ int: true, min: 1, max: agentLimits.maxToolCalls })) },
        'strict',
      ),
    ),
    approvals: optional(object({ tools: withDefault(array(string({ min: 1 })), () => []) }, 'strict')),
    scenario: optional(script),
  },
  'strict',
);

const decision = object<Decision>(
  {
    decision: required(oneOf(decisionKinds)),
    taskId: optional(string({ min: 1 })),
    note: optional(string({ max: 4_000 })),
    guidance: optional(string({ max: 4_000 })),
    by: optional(string({ min: 1, max: 200 })),
    budgetUsd: optional(number({ above: 0, max: 10_000, message: 'budgetUsd must be more than 0' })),
    input: optional(record(unknownValue)),
  },
  'strict',
);

const replanRequest = object<ReplanRequest>({ guidance: required(string({ min: 1, max: 4_000 })), by: optional(string({ max: 200 })) }, 'strict');

/** Every problem, one line each, with the path that has it (as describeIssues words zod's). */
function run<T>(check: Check<T>, value: unknown): Checked<T> {
  const issues: Issue[] = [];
  const checked = check(value, [], issues);
  if (checked !== bad) return { success: true, data: checked };
  return { success: false, issues: issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`) };
}

export const checkAgentRequest = (value: unknown): Checked<AgentRequest> => run(agentRequest, value);
export const checkPlan = (value: unknown): Checked<Plan> => run(plan, value);
export const checkDecision = (value: unknown): Checked<Decision> => run(decision, value);
export const checkReplanRequest = (value: unknown): Checked<ReplanRequest> => run(replanRequest, value);

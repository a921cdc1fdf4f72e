// The workflow's checks of what reaches it from outside: the request, a plan, a decision, a replan.
// Each contract is defined once, by the zod schemas in src/shared; `npm run build` writes their JSON
// Schemas to contract-schemas.json (scripts/generate-contract-schemas.mjs), and this small checker
// reads them. The workflow cannot carry zod itself: a bundle's modules are evaluated for every run
// unless preloaded, zod cannot be preloaded (src/workflow-bundle.ts), and bench/contract-check.mjs
// measures what each way of checking costs a run.
// The checker knows the JSON Schema keywords those schemas use, says what zod says, and reads the
// "x-keel" keyword for a schema's own messages, trims and rules (src/shared/json-schema.ts).
import { type AgentRequest, type ContractRuleName, type Decision, type Plan, type ReplanRequest, contractRules, isContractRuleName } from '../shared/workflow';
import generated from './contract-schemas.json';

export type Checked<T> = { success: true; data: T } | { success: false; issues: string[]; data?: undefined };

/** The part of JSON Schema the generated schemas use. */
interface Schema {
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean';
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | false;
  propertyNames?: Schema;
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  default?: unknown;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  'x-keel'?: { trim?: true; rule?: string; messages?: Record<string, string> };
}

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
type Out = unknown;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const received = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
/** Copies a key of the input, except "__proto__" (JSON.parse makes own ones), which zod drops too. */
const copyKey = (target: Record<string, unknown>, name: string, value: unknown): void => {
  if (name !== '__proto__') target[name] = value;
};
const patterns = new Map<string, RegExp>();
const patternOf = (source: string): RegExp => {
  let pattern = patterns.get(source);
  if (!pattern) patterns.set(source, (pattern = new RegExp(source, 'u')));
  return pattern;
};

class Checker {
  readonly issues: Issue[] = [];

  /** A value of the wrong type, in the schema's own words when it has them. */
  private typeError(schema: Schema, path: Path, message: string): typeof bad {
    this.issues.push({ path, message: schema['x-keel']?.messages?.type ?? message, typeError: true });
    return bad;
  }
  /** A failed check, in the schema's own words for that keyword when it has them. */
  private failed(schema: Schema, keyword: string, path: Path, fallback: string): void {
    this.issues.push({ path, message: schema['x-keel']?.messages?.[keyword] ?? fallback, typeError: false });
  }

  check(schema: Schema, value: unknown, path: Path): Out | typeof bad {
    if (schema.anyOf) return this.firstOf(schema, value, path);
    if (schema.enum) {
      return schema.enum.includes(value) ? value : this.typeError(schema, path, `Invalid option: expected one of ${schema.enum.map((option) => JSON.stringify(option)).join('|')}`);
    }
    switch (schema.type) {
      case 'string':
        return this.string(schema, value, path);
      case 'number':
      case 'integer':
        return this.number(schema, value, path);
      case 'boolean':
        return typeof value === 'boolean' ? value : this.typeError(schema, path, `Invalid input: expected boolean, received ${received(value)}`);
      case 'array':
        return this.array(schema, value, path);
      case 'object':
        return schema.properties ? this.object(schema, value, path) : this.record(schema, value, path);
      default:
        return value;
    }
  }

  private string(schema: Schema, value: unknown, path: Path): Out | typeof bad {
    if (typeof value !== 'string') return this.typeError(schema, path, `Invalid input: expected string, received ${received(value)}`);
    const text = schema['x-keel']?.trim ? value.trim() : value;
    const before = this.issues.length;
    if (schema.minLength !== undefined && text.length < schema.minLength) this.failed(schema, 'minLength', path, `Too small: expected string to have >=${schema.minLength} characters`);
    if (schema.maxLength !== undefined && text.length > schema.maxLength) this.failed(schema, 'maxLength', path, `Too big: expected string to have <=${schema.maxLength} characters`);
    if (schema.pattern !== undefined && !patternOf(schema.pattern).test(text)) this.failed(schema, 'pattern', path, `Invalid string: must match pattern /${schema.pattern}/`);
    return this.issues.length > before ? bad : text;
  }

  private number(schema: Schema, value: unknown, path: Path): Out | typeof bad {
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.typeError(schema, path, `Invalid input: expected number, received ${received(value)}`);
    const integer = schema.type === 'integer';
    if (integer && !Number.isInteger(value)) return this.typeError(schema, path, 'Invalid input: expected int, received number');
    const before = this.issues.length;
    // An int outside the safe range is reported as zod's int format reports it, before the schema's own bounds.
    if (integer && value < Number.MIN_SAFE_INTEGER) this.failed(schema, 'minimum', path, `Too small: expected int to be >=${Number.MIN_SAFE_INTEGER}`);
    if (integer && value > Number.MAX_SAFE_INTEGER) this.failed(schema, 'maximum', path, `Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`);
    const own = (bound: number | undefined): bound is number => bound !== undefined && !(integer && Math.abs(bound) === Number.MAX_SAFE_INTEGER);
    if (own(schema.exclusiveMinimum) && !(value > schema.exclusiveMinimum)) this.failed(schema, 'exclusiveMinimum', path, `Too small: expected number to be >${schema.exclusiveMinimum}`);
    if (own(schema.minimum) && value < schema.minimum) this.failed(schema, 'minimum', path, `Too small: expected number to be >=${schema.minimum}`);
    if (own(schema.maximum) && value > schema.maximum) this.failed(schema, 'maximum', path, `Too big: expected number to be <=${schema.maximum}`);
    return this.issues.length > before ? bad : value;
  }

  private array(schema: Schema, value: unknown, path: Path): Out | typeof bad {
    if (!Array.isArray(value)) return this.typeError(schema, path, `Invalid input: expected array, received ${received(value)}`);
    const out: unknown[] = [];
    let failed = false;
    value.forEach((element, index) => {
      const checked = schema.items ? this.check(schema.items, element, [...path, index]) : element;
      if (checked === bad) failed = true;
      else out.push(checked);
    });
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      this.failed(schema, 'minItems', path, `Too small: expected array to have >=${schema.minItems} items`);
      return bad;
    }
    return failed ? bad : out;
  }

  /** An object with no fixed fields: every key is checked by propertyNames, every value by additionalProperties. */
  private record(schema: Schema, value: unknown, path: Path): Out | typeof bad {
    if (!isObject(value)) return this.typeError(schema, path, `Invalid input: expected record, received ${received(value)}`);
    const out: Record<string, unknown> = {};
    let failed = false;
    for (const [name, element] of Object.entries(value)) {
      const key = schema.propertyNames && new Checker().check(schema.propertyNames, name, []) === bad ? this.invalidKey([...path, name]) : name;
      const checked = schema.additionalProperties ? this.check(schema.additionalProperties, element, [...path, name]) : element;
      if (key === bad || checked === bad) failed = true;
      else copyKey(out, name, checked);
    }
    return failed ? bad : out;
  }

  private invalidKey(path: Path): typeof bad {
    this.issues.push({ path, message: 'Invalid key in record', typeError: false });
    return bad;
  }

  /**
   * An object of known fields. additionalProperties false: other keys are an error; absent: they
   * are dropped; a schema: they are kept (zod's strict, strip and loose objects). A rule runs on
   * the value as given when no field had a type error.
   */
  private object(schema: Schema, value: unknown, path: Path): Out | typeof bad {
    if (!isObject(value)) return this.typeError(schema, path, `Invalid input: expected object, received ${received(value)}`);
    const fields = schema.properties ?? {};
    const out: Record<string, unknown> = {};
    const before = this.issues.length;
    for (const [name, field] of Object.entries(fields)) {
      const given = Object.hasOwn(value, name) ? value[name] : undefined;
      if (given === undefined) {
        if ('default' in field) out[name] = JSON.parse(JSON.stringify(field.default));
        else if (schema.required?.includes(name) && this.check(field, undefined, [...path, name]) !== bad) this.typeError(field, [...path, name], 'Invalid input: required');
        continue;
      }
      const checked = this.check(field, given, [...path, name]);
      out[name] = checked === bad ? given : checked;
    }
    const others = Object.keys(value).filter((name) => !Object.hasOwn(fields, name));
    if (schema.additionalProperties === false && others.length > 0) {
      this.failed(schema, 'additionalProperties', path, `Unrecognized key${others.length > 1 ? 's' : ''}: ${others.map((name) => `"${name}"`).join(', ')}`);
    } else if (schema.additionalProperties) {
      for (const name of others) copyKey(out, name, value[name]);
    }
    const rule = schema['x-keel']?.rule;
    if (isContractRuleName(rule) && !this.issues.slice(before).some((issue) => issue.typeError)) this.rule(rule, out, path);
    return this.issues.length > before ? bad : out;
  }

  private rule(name: ContractRuleName, value: Record<string, unknown>, path: Path): void {
    for (const problem of contractRules[name](value)) this.issues.push({ path: [...path, ...problem.path], message: problem.message, typeError: false });
  }

  /**
   * The first of the options that fits. When none does: the problems of the one option that failed
   * only checks, if there is exactly one, else one message for the whole value.
   */
  private firstOf(schema: Schema, value: unknown, path: Path): Out | typeof bad {
    const attempts: Issue[][] = [];
    for (const option of schema.anyOf ?? []) {
      const own = new Checker();
      const checked = own.check(option, value, path);
      if (checked !== bad) return checked;
      attempts.push(own.issues);
    }
    const onlyChecksFailed = attempts.filter((own) => own.every((issue) => !issue.typeError));
    if (onlyChecksFailed.length === 1) {
      this.issues.push(...onlyChecksFailed[0]!);
      return bad;
    }
    return this.typeError(schema, path, schema['x-keel']?.messages?.anyOf ?? 'Invalid input');
  }
}

/** Every problem, one line each, with the path that has it (as describeIssues words zod's). */
function run<T>(schema: Schema, value: unknown): Checked<T> {
  const checker = new Checker();
  const checked = checker.check(schema, value, []);
  if (checked !== bad) return { success: true, data: checked as T };
  return { success: false, issues: checker.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`) };
}

/** A value checked against any JSON Schema (a tool's input schema): the keywords above are checked, others are not. */
export const checkAgainst = (schema: Record<string, unknown>, value: unknown): Checked<unknown> => run(schema as Schema, value);

const schemas = generated as unknown as Record<'request' | 'plan' | 'decision' | 'replan', Schema>;
export const checkAgentRequest = (value: unknown): Checked<AgentRequest> => run(schemas.request, value);
export const checkPlan = (value: unknown): Checked<Plan> => run(schemas.plan, value);
export const checkDecision = (value: unknown): Checked<Decision> => run(schemas.decision, value);
export const checkReplanRequest = (value: unknown): Checked<ReplanRequest> => run(schemas.replan, value);

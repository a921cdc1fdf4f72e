// JSON Schemas derived from the zod schemas: the one definition of each contract, written once in
// zod, becomes the data that the workflow's checker reads (src/workflows/contracts.ts), which cannot
// afford zod in its bundle. What JSON Schema cannot say travels in one extra keyword, "x-keel": the
// messages a user reads, a trim, and the name of a rule from contract-rules.ts.
import { z } from 'zod';
import { contractRules, type ContractRuleName } from './contract-rules';

/** The extra keyword's value. */
export interface KeelKeyword {
  /** The string is trimmed before its checks, and the value is the trimmed string. */
  trim?: true;
  /** A rule from contract-rules.ts, run once the value's fields have the right types. */
  rule?: ContractRuleName;
  /** A schema's own words for a failed keyword (minLength, pattern, exclusiveMinimum, anyOf, ...), and `type` for a value of the wrong type. */
  messages?: Record<string, string>;
}

const keyword = (value: KeelKeyword) => ({ 'x-keel': value });

/** A string trimmed before its checks; the workflow's checker trims it too. */
export const trimmedString = () => z.string().trim().meta(keyword({ trim: true }));

/** The schema with a rule from contract-rules.ts, checked by zod here and by name in the workflow. */
export function withRule<T extends z.ZodType<Record<string, unknown>>>(schema: T, rule: ContractRuleName): T {
  return schema
    .superRefine((value, context) => {
      for (const problem of contractRules[rule](value)) context.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    })
    .meta(keyword({ rule })) as T;
}

type Check = { _zod: { def: { check: string; format?: string; inclusive?: boolean; error?: (issue: object) => unknown } } };
type Def = { type: string; checks?: Check[]; format?: string; error?: (issue: object) => unknown };

/** What a zod error function says when it is a fixed message (the `'...'` or `{ message }` of a schema). */
const fixedMessage = (error: Def['error']): string | undefined => {
  const said = error?.({});
  return typeof said === 'string' ? said : undefined;
};

/** The JSON Schema keyword a zod check is written as, for this schema type. */
function keywordOf(type: string, check: Check['_zod']['def']): string | undefined {
  const sized = type === 'array' ? 'Items' : 'Length';
  switch (check.check) {
    case 'min_length':
      return `min${sized}`;
    case 'max_length':
      return `max${sized}`;
    case 'string_format':
      return 'pattern';
    case 'greater_than':
      return check.inclusive ? 'minimum' : 'exclusiveMinimum';
    case 'less_than':
      return check.inclusive ? 'maximum' : 'exclusiveMaximum';
    default:
      return undefined;
  }
}

/** The schema's own messages, by the keyword each belongs to. */
function messagesOf(def: Def): Record<string, string> {
  const messages: Record<string, string> = {};
  for (const check of def.checks ?? []) {
    const name = keywordOf(def.type, check._zod.def);
    const message = fixedMessage(check._zod.def.error);
    if (name && message) messages[name] = message;
  }
  // A schema's own error (not a check's) words every problem with it, its type included.
  const own = fixedMessage(def.error);
  if (own) messages.type = own;
  if (own && def.type === 'union') messages.anyOf = own;
  if (own && def.type === 'string' && def.format) messages.pattern = own;
  return messages;
}

/**
 * The JSON Schema (draft 2020-12) of what a zod schema accepts as input, defaults included.
 * forWorkflow adds the "x-keel" keyword the workflow's checker reads.
 */
export function jsonSchemaOf(schema: z.ZodType, options: { forWorkflow?: boolean } = {}): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const target = jsonSchema as Record<string, unknown>;
      if (!options.forWorkflow) {
        delete target['x-keel'];
        return;
      }
      const messages = messagesOf((zodSchema as unknown as { _zod: { def: Def } })._zod.def);
      if (Object.keys(messages).length === 0) return;
      const own = (target['x-keel'] ?? {}) as KeelKeyword;
      target['x-keel'] = { ...own, messages: { ...own.messages, ...messages } };
    },
  }) as Record<string, unknown>;
}

// Reading what a model wrote: JSON held to a schema (anything else is `malformed`, with the
// reason to feed back), plain text that may be JSON, and the majority among several answers.
import type { z } from 'zod';
import { describeIssues, KeelError, stableJson } from '../shared';

/** Model output that must match a schema: anything else is `malformed`, with the reason to feed back. */
export function parseStructured<T>(text: string, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(stripCodeFence(text));
  } catch (error) {
    throw new KeelError('malformed', `the ${what} is not valid JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new KeelError('malformed', `the ${what} does not match the schema: ${describeIssues(parsed.error).join('; ')}`);
  return parsed.data;
}

function stripCodeFence(text: string): string {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(text);
  return fenced?.[1] ?? text;
}

/** Text that is JSON becomes the value it holds; other text stays text. */
export function parseIfJson(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return text;
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}

/** The index of the answer most others agree with (after normalizing), and its votes; ties go to the first model. */
export function majority(answers: unknown[]): { winner: number; votes: number } {
  const keys = answers.map(normalizeAnswer);
  let winner = 0;
  let votes = 0;
  keys.forEach((key, index) => {
    const count = keys.filter((other) => other === key).length;
    if (count > votes) {
      winner = index;
      votes = count;
    }
  });
  return { winner, votes };
}

/** Case, spacing, surrounding quotes and a final period do not make answers differ; key order does not either. */
export function normalizeAnswer(answer: unknown): string {
  const normalize = (value: unknown): unknown => {
    if (typeof value === 'string') return value.trim().replace(/^["'`]+|["'`]+$/g, '').replace(/[.!]+$/, '').replace(/\s+/g, ' ').toLowerCase();
    if (Array.isArray(value)) return value.map(normalize);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, normalize(item)]));
    return value;
  };
  return stableJson(normalize(answer));
}

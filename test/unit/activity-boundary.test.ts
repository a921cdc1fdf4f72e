import { ApplicationFailure } from '@temporalio/common';
import { maxRetryAfterMs, rateLimitDelayMs, toApplicationFailure } from '../../src/activities/failure-boundary';
import { withCurrentNames } from '../../src/activities/earlier-inputs';
import { interpolate } from '../../src/activities/interpolate';
import { parseStructured } from '../../src/activities/create-activities';
import { KeelError, PlanSchema } from '../../src/shared';

test.each([
  ['transient', false],
  ['rate_limit', false],
  ['timeout', false],
  ['permanent', true],
  ['malformed', true],
  ['context', true],
  ['budget', true],
  ['semantic', true],
] as const)('a %s failure has that type and nonRetryable=%s', (kind, nonRetryable) => {
  const failure = toApplicationFailure(new KeelError(kind, 'boom'), 3);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure.type).toBe(kind);
  expect(failure.nonRetryable).toBe(nonRetryable);
  expect(failure.details).toEqual([{ attempt: 3 }]);
});

test('rate limits honour Retry-After, else back off with jitter under 60 s', () => {
  expect(toApplicationFailure(new KeelError('rate_limit', '429', { retryAfterMs: 7_000 }), 1).nextRetryDelay).toBe(7_000);
  expect(rateLimitDelayMs(1, () => 0)).toBe(500);
  expect(rateLimitDelayMs(1, () => 1)).toBe(2_000);
  expect(rateLimitDelayMs(20, () => 1)).toBe(60_000);
});

test('unknown errors: network codes are transient, anything else permanent', () => {
  expect(toApplicationFailure(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), 1).type).toBe('transient');
  expect(toApplicationFailure(new TypeError('x is undefined'), 1)).toMatchObject({ type: 'permanent', nonRetryable: true });
});

test('structured output that is not JSON or not the schema is malformed, with the reason', () => {
  expect(() => parseStructured('{oops', PlanSchema, 'plan')).toThrow(expect.objectContaining({ kind: 'malformed', message: expect.stringMatching(/not valid JSON/) }));
  expect(() => parseStructured('{"tasks": []}', PlanSchema, 'plan')).toThrow(expect.objectContaining({ kind: 'malformed', message: expect.stringMatching(/at least one task/) }));
  expect(parseStructured('```json\n{"tasks":[{"id":"a","kind":"llm","description":"d"}]}\n```', PlanSchema, 'plan').tasks[0]?.critical).toBe(true);
});

test('tool inputs resolve references to dependency outputs and the run input', () => {
  const scope = { input: { customer: 'ACME' }, t2: { accountId: 'acct_1', n: 3 } };
  expect(interpolate({ id: '{{t2.accountId}}', n: '{{ t2.n }}', text: 'Hi {{input.customer}} ({{t2.n}})', list: ['{{input.customer}}'] }, scope)).toEqual({
    id: 'acct_1',
    n: 3,
    text: 'Hi ACME (3)',
    list: ['ACME'],
  });
  expect(() => interpolate('{{t9.x}}', scope)).toThrow(/t9/);
});

test('a Retry-After past the longest backoff is capped at 60 s, and the reason says so', () => {
  const failure = toApplicationFailure(new KeelError('rate_limit', 'HTTP 429', { retryAfterMs: 1e15 }), 1);
  expect(maxRetryAfterMs).toBe(60_000);
  expect(failure.nextRetryDelay).toBe(60_000);
  expect(failure.message).toBe("HTTP 429 (asked to wait 11,574,074 days before retrying; capped at 60 s, the rate-limit path's longest backoff)");
  const honoured = toApplicationFailure(new KeelError('rate_limit', 'HTTP 429', { retryAfterMs: 2_000 }), 1);
  expect(honoured).toMatchObject({ nextRetryDelay: 2_000, message: 'HTTP 429' });
});

test('activity inputs scheduled before the budget names changed still carry their reservation', () => {
  expect(withCurrentNames({ goal: 'g', remainingBudgetUsd: 0.25 })).toMatchObject({ reservedUsd: 0.25 });
  expect(withCurrentNames({ allowedTools: [], callBudgetUsd: 0.5, budgetUsd: 1 })).toMatchObject({ reservedUsd: 0.5, remainingUsd: 1 });
  expect(withCurrentNames({ allowedTools: [], reservedUsd: 0.1, remainingUsd: 2 })).toEqual({ allowedTools: [], reservedUsd: 0.1, remainingUsd: 2 });
});

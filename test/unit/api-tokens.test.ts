// KEEL_API_TOKENS and bearer headers: parsed without ever throwing, whatever arrives; a token is
// found by its hash alone; a problem names the entry, never a value.
import fc from 'fast-check';
import { apiRoles, authenticate, parseApiTokens, tokenHash } from '../../src/security/api-tokens';

test('any KEEL_API_TOKENS text parses to tokens or one sentence; any Authorization header to a caller or a 401', () => {
  const tokens = parseApiTokens(`alice:${tokenHash('s3cret')}:approver+viewer`);
  if (typeof tokens === 'string') throw new Error(tokens);
  fc.assert(
    fc.property(fc.string(), fc.oneof(fc.string(), fc.constant(undefined), fc.array(fc.string())), (text, header) => {
      const parsed = parseApiTokens(text);
      expect(typeof parsed === 'string' || Array.isArray(parsed)).toBe(true);
      const caller = authenticate(header, tokens);
      expect(caller.ok ? caller.name : caller.status).toBe(caller.ok ? 'alice' : 401);
    }),
    { numRuns: 2_000 },
  );
});

test('well-formed entries round-trip; the right token finds its name and roles, any other does not', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/), { minLength: 1, maxLength: 5 }),
      fc.subarray([...apiRoles], { minLength: 1 }),
      fc.string({ minLength: 1, maxLength: 40 }).filter((value) => !/\s/.test(value)),
      (names, roles, secret) => {
        const text = names.map((name) => `${name}:${tokenHash(`${secret}-${name}`)}:${roles.join('+')}`).join(',');
        const parsed = parseApiTokens(text);
        if (typeof parsed === 'string') throw new Error(parsed);
        expect(parsed.map((token) => token.name)).toEqual(names);
        for (const name of names) expect(authenticate(`Bearer ${secret}-${name}`, parsed)).toEqual({ ok: true, name, roles });
        expect(authenticate(`Bearer ${secret}-nobody!`, parsed)).toEqual({ ok: false, status: 401, error: 'the token is not valid' });
      },
    ),
  );
});

test.each([
  ['', 'KEEL_API_TOKENS is empty'],
  ['alice', 'KEEL_API_TOKENS entry 1 is not name:sha256-of-token:roles'],
  [`alice:${'ab'.repeat(32)}:root`, 'KEEL_API_TOKENS entry 1 (alice): roles are starter, approver, viewer, joined by "+"; not "root"'],
  [`alice:${'ab'.repeat(32)}:viewer,alice:${'cd'.repeat(32)}:viewer`, 'KEEL_API_TOKENS entry 2: the name alice is used twice'],
  ['bob:hunter2:viewer', "KEEL_API_TOKENS entry 1 (bob): the second part must be the token's SHA-256"],
])('%j is refused: %s', (text, problem) => {
  const parsed = parseApiTokens(text);
  expect(parsed).toEqual(expect.stringContaining(problem));
  expect(parsed).not.toContain('hunter2');
});

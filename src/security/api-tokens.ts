// Bearer tokens for `keel serve`'s run and decision endpoints. KEEL_API_TOKENS holds, per token, a
// name, the SHA-256 of the token (never the token) and its roles: `name:sha256hex:role+role,...`.
// A presented token is hashed and compared with every entry in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

export const apiRoles = ['starter', 'approver', 'viewer'] as const;
export type ApiRole = (typeof apiRoles)[number];

export interface ApiToken {
  /** Who holds it: the identity a decision it sends is recorded under. */
  name: string;
  sha256: Buffer;
  roles: ApiRole[];
}

/** The SHA-256 of a token, hex: what KEEL_API_TOKENS stores. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** KEEL_API_TOKENS → the tokens, or a sentence naming what is wrong (never a hash's value). */
export function parseApiTokens(text: string): ApiToken[] | string {
  const tokens: ApiToken[] = [];
  const entries = text.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) return 'KEEL_API_TOKENS is empty: give name:sha256-of-token:roles, comma-separated';
  for (const [index, entry] of entries.entries()) {
    const [name, hash, roles, ...rest] = entry.split(':');
    const where = `KEEL_API_TOKENS entry ${index + 1}`;
    if (rest.length > 0 || name === undefined || hash === undefined || roles === undefined) return `${where} is not name:sha256-of-token:roles (roles joined by "+", e.g. alice:<64 hex>:approver+viewer)`;
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) return `${where}: the name must be 1-64 letters, digits, "_", ".", "@" or "-"`;
    if (!/^[0-9a-f]{64}$/i.test(hash)) return `${where} (${name}): the second part must be the token's SHA-256, 64 hex characters (\`printf %s "$TOKEN" | sha256sum\`)`;
    const named = roles.split('+');
    const unknown = named.filter((role) => !(apiRoles as readonly string[]).includes(role));
    if (named.length === 0 || unknown.length > 0) return `${where} (${name}): roles are ${apiRoles.join(', ')}, joined by "+"${unknown.length > 0 ? `; not ${unknown.map((role) => JSON.stringify(role)).join(', ')}` : ''}`;
    if (tokens.some((token) => token.name === name)) return `${where}: the name ${name} is used twice`;
    tokens.push({ name, sha256: Buffer.from(hash.toLowerCase(), 'hex'), roles: named as ApiRole[] });
  }
  return tokens;
}

export type Authentication = { ok: true; name: string; roles: ApiRole[] } | { ok: false; status: 401; error: string };

/** The caller behind `Authorization: Bearer <token>`, or why not (the same words for any wrong token). */
export function authenticate(header: string | string[] | undefined, tokens: readonly ApiToken[]): Authentication {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value ?? '');
  if (!match) return { ok: false, status: 401, error: 'send Authorization: Bearer <token>' };
  const presented = createHash('sha256').update(match[1]!).digest();
  // Every entry is compared, found or not, so the time says nothing about which names exist.
  let found: ApiToken | undefined;
  for (const token of tokens) if (timingSafeEqual(presented, token.sha256) && !found) found = token;
  return found ? { ok: true, name: found.name, roles: found.roles } : { ok: false, status: 401, error: 'the token is not valid' };
}

// Bearer tokens for `keel serve`'s run and decision endpoints and the codec server. Static tokens:
// KEEL_API_TOKENS holds, per token, a name, the SHA-256 of the token (never the token) and its roles:
// `name:sha256hex:role+role,...`; a presented token is hashed and compared with every entry in
// constant time. OIDC: a JWT checked with jose against a JWKS URL, its issuer and audience, its
// roles from the groups its claim lists (KEEL_OIDC_*).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';

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

export type Authentication = { ok: true; name: string; roles: ApiRole[]; groups?: string[] } | { ok: false; status: 401; error: string };

const noToken: Authentication = { ok: false, status: 401, error: 'send Authorization: Bearer <token>' };
const invalid: Authentication = { ok: false, status: 401, error: 'the token is not valid' };

/** The token in `Authorization: Bearer <token>`, or undefined. */
function bearer(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return /^Bearer\s+(\S+)\s*$/i.exec(value ?? '')?.[1];
}

/** What a caller without `role` is told: the same sentence at every door. */
export function roleRefusal(role: ApiRole): string {
  const what = { starter: 'start runs', approver: 'decide runs', viewer: 'read runs' }[role];
  return `this token may not ${what}: it needs the role ${role}`;
}

/** The caller behind `Authorization: Bearer <token>`, or why not (the same words for any wrong token). */
export function authenticate(header: string | string[] | undefined, tokens: readonly ApiToken[]): Authentication {
  const token = bearer(header);
  return token === undefined ? noToken : staticToken(token, tokens);
}

function staticToken(token: string, tokens: readonly ApiToken[]): Authentication {
  const presented = createHash('sha256').update(token).digest();
  // Every entry is compared, found or not, so the time says nothing about which names exist.
  let found: ApiToken | undefined;
  for (const token of tokens) if (timingSafeEqual(presented, token.sha256) && !found) found = token;
  return found ? { ok: true, name: found.name, roles: found.roles } : invalid;
}

/** OIDC JWTs: where the keys are, whose tokens count, and which groups give which role. */
export interface OidcSettings {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** The claim that lists the caller's groups (default "groups"). */
  groupsClaim: string;
  /** The claim that names the caller, recorded with a decision (default "email", else "sub"). */
  nameClaim: string;
  /** Role → the groups that have it. */
  roleGroups: Record<ApiRole, string[]>;
}

/** KEEL_OIDC_ROLE_GROUPS ("approver:finance+ops,viewer:staff") → role → groups, or what is wrong. */
export function parseRoleGroups(text: string): Record<ApiRole, string[]> | string {
  const out: Record<ApiRole, string[]> = { starter: [], approver: [], viewer: [] };
  for (const entry of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [role, groups, ...rest] = entry.split(':');
    if (rest.length > 0 || !role || !groups) return `KEEL_OIDC_ROLE_GROUPS entry "${entry}" is not role:group+group`;
    if (!(apiRoles as readonly string[]).includes(role)) return `KEEL_OIDC_ROLE_GROUPS: roles are ${apiRoles.join(', ')}; not "${role}"`;
    out[role as ApiRole].push(...groups.split('+').filter(Boolean));
  }
  return out;
}

/** The caller behind a bearer header: a static token, or (when configured) an OIDC JWT. */
export type Authenticator = (header: string | string[] | undefined) => Promise<Authentication>;

export function createAuthenticator(tokens: readonly ApiToken[], oidc?: OidcSettings): Authenticator {
  const keys = oidc ? createRemoteJWKSet(new URL(oidc.jwksUrl)) : undefined;
  return async (header) => {
    const token = bearer(header);
    if (token === undefined) return noToken;
    // A JWT has three base64url parts; anything else is a static token.
    if (!oidc || !keys || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) return staticToken(token, tokens);
    try {
      const { payload } = await jwtVerify(token, keys, { issuer: oidc.issuer, audience: oidc.audience });
      const claimed = payload[oidc.groupsClaim];
      const groups = Array.isArray(claimed) ? claimed.filter((group): group is string => typeof group === 'string') : [];
      const roles = apiRoles.filter((role) => oidc.roleGroups[role].some((group) => groups.includes(group)));
      const name = payload[oidc.nameClaim] ?? payload.sub;
      return { ok: true, name: typeof name === 'string' && name !== '' ? name : 'unnamed', roles, ...(groups.length > 0 ? { groups: groups.slice(0, 100) } : {}) };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return { ok: false, status: 401, error: 'the token has expired' };
      return invalid;
    }
  };
}

/** The authenticator the config asks for (KEEL_API_TOKENS, KEEL_OIDC_*), or undefined when it names no tokens. */
export function configuredAuthenticator(settings: { apiTokens?: readonly ApiToken[]; oidc?: OidcSettings }): Authenticator | undefined {
  return settings.apiTokens || settings.oidc ? createAuthenticator(settings.apiTokens ?? [], settings.oidc) : undefined;
}

// An RS256 token issuer for tests: signs JWTs with node:crypto and serves its JWKS on loopback.
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync, sign } from 'node:crypto';

export interface TestIssuer {
  jwksUrl: string;
  /** A JWT with these claims (exp defaults to an hour from now), signed by this issuer's key, or by a stranger's. */
  token(claims: Record<string, unknown>, options?: { stranger?: boolean }): string;
  close(): void;
}

export async function startIssuer(kid = 'keel-test'): Promise<TestIssuer> {
  const own = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const server: Server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [{ ...own.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return {
    jwksUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/jwks.json`,
    token(claims, options = {}) {
      const unsigned = `${encode({ alg: 'RS256', typ: 'JWT', kid: options.stranger ? 'stranger' : kid })}.${encode({ exp: Math.floor(Date.now() / 1000) + 3_600, ...claims })}`;
      return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), (options.stranger ? stranger : own).privateKey).toString('base64url')}`;
    },
    close: () => server.close(),
  };
}

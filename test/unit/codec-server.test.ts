// The codec server's doors: with tokens set, /encode and /decode take only a bearer token; a body
// over the cap is 413; a payload it cannot decode says nothing about which keys exist.
import { randomBytes } from 'node:crypto';
import { AesGcmCodec } from '../../src/security/codec';
import { createCodecServer } from '../../src/security/codec-server';
import { createAuthenticator, parseApiTokens, tokenHash } from '../../src/security/api-tokens';

const codec = new AesGcmCodec([{ id: 'k-2026-secret-name', key: randomBytes(32) }]);
const stranger = new AesGcmCodec([{ id: 'other-key', key: randomBytes(32) }]);
const tokens = parseApiTokens(`ui:${tokenHash('ui-token-123')}:viewer`);
if (typeof tokens === 'string') throw new Error(tokens);
const asJson = (payloads: Array<{ metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }>) => ({
  payloads: payloads.map((payload) => ({
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  })),
});

test('with tokens, a bearer token is required; without, the server is open as before', async () => {
  const encoded = asJson(await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"hello"') }]));
  const guarded = createCodecServer({ codec, allowedOrigins: [], authenticate: createAuthenticator(tokens) });
  const decode = (headers: Record<string, string>, payload: unknown = encoded) => guarded.inject({ method: 'POST', url: '/decode', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) });
  expect((await decode({})).json()).toEqual({ error: 'send Authorization: Bearer <token>' });
  expect((await decode({})).statusCode).toBe(401);
  expect((await decode({ authorization: 'Bearer wrong' })).statusCode).toBe(401);
  const ok = await decode({ authorization: 'Bearer ui-token-123' });
  expect(ok.statusCode).toBe(200);
  expect(Buffer.from((ok.json() as { payloads: Array<{ data: string }> }).payloads[0]!.data, 'base64').toString()).toBe('"hello"');
  // Encrypted with a key this server lacks: refused without naming any key id.
  const foreign = asJson(await stranger.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"x"') }]));
  const refused = await decode({ authorization: 'Bearer ui-token-123' }, foreign);
  expect(refused.statusCode).toBe(400);
  expect(refused.body).not.toMatch(/k-2026-secret-name|other-key/);
  expect(refused.json()).toEqual({ error: "these payloads cannot be decoded with this server's keys" });

  const open = createCodecServer({ codec, allowedOrigins: [] });
  expect((await open.inject({ method: 'POST', url: '/decode', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(encoded) })).statusCode).toBe(200);
});

test('a body over the cap is 413', async () => {
  const small = createCodecServer({ codec, allowedOrigins: [], maxBodyBytes: 1_024 });
  const response = await small.inject({ method: 'POST', url: '/decode', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ payloads: [{ data: 'A'.repeat(4_096) }] }) });
  expect(response.statusCode).toBe(413);
  expect(response.json()).toEqual({ error: 'the body is larger than 1024 bytes' });
});

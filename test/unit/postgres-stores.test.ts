// The PostgreSQL-backed stores against the machine's PostgreSQL: the response cache honours its
// TTL and is shared by two instances (two workers); the blob store keeps large values for references.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { offloadIfLarge, PostgresBlobStore, resolveRefs } from '../../src/storage/blobs';
import { PostgresResponseCache } from '../../src/llm/response-cache';
import { isBlobRef } from '../../src/shared';

const databaseUrl = process.env.KEEL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const table = `keel_cache_unit_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const answer = (text: string) => ({ text, model: 'gpt-4o-mini', usage: { inputTokens: 3, outputTokens: 1 } });

afterAll(async () => {
  const pool = new Pool({ connectionString: databaseUrl });
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

test('the response cache is shared across instances and forgets entries after the TTL', async () => {
  const [writer, reader] = [new PostgresResponseCache({ databaseUrl, ttlMs: 60_000, table }), new PostgresResponseCache({ databaseUrl, ttlMs: 60_000, table })];
  const shortLived = new PostgresResponseCache({ databaseUrl, ttlMs: 200, table });
  try {
    await writer.set('k1', answer('kept'));
    expect(await reader.get('k1')).toEqual(answer('kept'));
    await shortLived.set('k2', answer('fleeting'));
    expect(await reader.get('k2')).toEqual(answer('fleeting'));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await reader.get('k2')).toBeUndefined();
    expect(await reader.prune()).toBeGreaterThanOrEqual(1);
    expect(await reader.get('k1')).toEqual(answer('kept'));
  } finally {
    await Promise.all([writer.close(), reader.close(), shortLived.close()]);
  }
});

test('the PostgreSQL blob store keeps a large value for its reference, once per content', async () => {
  const [worker, client] = [new PostgresBlobStore(databaseUrl), new PostgresBlobStore(databaseUrl)];
  try {
    const value = { report: `${randomUUID()} ${'z'.repeat(300_000)}` };
    const ref = await offloadIfLarge(value, worker, 256 * 1_024);
    expect(isBlobRef(ref)).toBe(true);
    expect(await offloadIfLarge(value, worker, 256 * 1_024)).toEqual(ref); // same content, same id, no second row
    expect(await resolveRefs({ nested: [ref] }, client)).toEqual({ nested: [value] });
    expect(await offloadIfLarge({ small: true }, worker, 256 * 1_024)).toEqual({ small: true });
  } finally {
    await Promise.all([worker.close(), client.close()]);
  }
});

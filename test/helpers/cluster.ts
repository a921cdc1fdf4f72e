// temporal-server (built from its Go module) on fresh PostgreSQL databases, one per test file,
// started before its tests and removed after them.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { findServerTools, freeServerPort, setupSchemas, startPostgresServer, type PostgresServer, type StartOptions } from '../../src/servers/postgres-server';

const databaseUrl = process.env.KEEL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The server for this file (once beforeAll ran), and the suffix its names share. `security` adds mTLS or JWT authorization. */
export function useClusterServer(prefix: string, security: () => Pick<StartOptions, 'mtls' | 'jwt'> | Promise<Pick<StartOptions, 'mtls' | 'jwt'>> = () => ({})): { server: () => PostgresServer; suffix: string } {
  const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
  const target = { host: '127.0.0.1', port: 5432, user: 'postgres', database: `keel_${prefix}_${suffix}`, visibilityDatabase: `keel_${prefix}v_${suffix}` };
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    const tools = await findServerTools((line) => process.stderr.write(`${line}\n`));
    await setupSchemas(tools, target);
    const directory = mkdtempSync(path.join(os.tmpdir(), `keel-${prefix}-server-`));
    server = await startPostgresServer({ tools, target, port: await freeServerPort(), cli: process.env.KEEL_TEST_TEMPORAL_CLI!, directory, ...(await security()) });
  }, 600_000);
  afterAll(async () => {
    await server?.stop();
    const pool = new Pool({ connectionString: databaseUrl });
    for (const database of [target.database, target.visibilityDatabase]) await pool.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await pool.end();
  });
  return {
    server: () => {
      if (!server) throw new Error('the cluster server is not started: use it inside a test');
      return server;
    },
    suffix,
  };
}

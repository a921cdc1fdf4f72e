#!/usr/bin/env node
// Temporal on the local PostgreSQL, for running Keel at scale on one machine:
//   npm run build && node scripts/temporal-postgres.mjs
// Builds temporal-server and temporal-sql-tool (v1.29.1, once, cached in ~/.cache/keel), creates
// and migrates the databases, starts the server on 127.0.0.1:$PORT (default 7233) and keeps it up
// until Ctrl-C. Then: TEMPORAL_ADDRESS=127.0.0.1:7233 keel worker (as many as you like).
// Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), PGPASSWORD, KEEL_TEMPORAL_DB
// (keel_temporal; visibility goes to <name>_visibility), PORT (7233), KEEL_HOME (.keel).
import path from 'node:path';
import { findServerTools, setupSchemas, startPostgresServer } from '../dist/servers/postgres-server.js';
import { findTemporalCli } from '../dist/servers/dev-server.js';

const log = (line) => process.stderr.write(`${line}\n`);
const database = process.env.KEEL_TEMPORAL_DB ?? 'keel_temporal';
const target = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  ...(process.env.PGPASSWORD ? { password: process.env.PGPASSWORD } : {}),
  database,
  visibilityDatabase: `${database}_visibility`,
};
const port = Number(process.env.PORT ?? 7233);
if (port + 103 > 32_767) throw new Error('PORT must be at most 32664: Temporal stores membership ports as smallint');

const tools = await findServerTools(log);
await setupSchemas(tools, target);
const cli = await findTemporalCli({ ...(process.env.TEMPORAL_CLI_PATH ? { explicitPath: process.env.TEMPORAL_CLI_PATH } : {}), log });
const server = await startPostgresServer({ tools, target, port, cli, directory: path.resolve(process.env.KEEL_HOME ?? '.keel', 'temporal-postgres'), log });
log(`ready: TEMPORAL_ADDRESS=${server.address} keel worker · Ctrl-C stops the server`);
await new Promise((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await server.stop();

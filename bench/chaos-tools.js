// Tools for npm run chaos, loaded by a real `keel worker` through KEEL_TOOLS. Every effect goes to
// a PostgreSQL ledger whose primary key is the idempotency key Keel passes to tools (workflow id :
// task id), so a tool call Temporal delivers twice (a worker killed after the effect, before the
// completion reached the server) is applied once, and any effect applied twice is visible.
const { setTimeout: delay } = require('node:timers/promises');
const { Pool } = require('pg');
const { z } = require('zod');

const databaseUrl = process.env.KEEL_CHAOS_LEDGER_URL;
if (!databaseUrl) throw new Error('bench/chaos-tools.js needs KEEL_CHAOS_LEDGER_URL (a postgres:// URL)');
const pool = new Pool({ connectionString: databaseUrl, max: 20 });

/** Creates (or empties) the ledger tables: effects keyed by idempotency key, and every delivery. */
async function resetLedger(client) {
  await client.query(`CREATE TABLE IF NOT EXISTS keel_chaos_effects (
    idempotency_key text PRIMARY KEY, workflow_id text NOT NULL, task_id text NOT NULL,
    account text NOT NULL, amount integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  await client.query(`CREATE TABLE IF NOT EXISTS keel_chaos_deliveries (
    id bigserial PRIMARY KEY, idempotency_key text NOT NULL, workflow_id text NOT NULL, task_id text NOT NULL,
    pid integer NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
  await client.query('TRUNCATE keel_chaos_effects, keel_chaos_deliveries');
}

const ledgerWrite = {
  name: 'ledger_write',
  description: 'Posts an amount to an account in the ledger, once per idempotency key; returns the receipt',
  input: z.object({ account: z.string().min(1), amount: z.number().int(), delayMs: z.number().int().min(0).max(30_000).default(0) }).strict(),
  async run(input, context) {
    const key = context.idempotencyKey;
    await pool.query('INSERT INTO keel_chaos_deliveries (idempotency_key, workflow_id, task_id, pid) VALUES ($1, $2, $3, $4)', [key, context.workflowId, context.taskId, process.pid]);
    await pool.query(
      'INSERT INTO keel_chaos_effects (idempotency_key, workflow_id, task_id, account, amount) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING',
      [key, context.workflowId, context.taskId, input.account, input.amount],
    );
    // The slow part comes after the effect, so a kill here leaves an applied effect whose
    // completion never reached Temporal: the retry must find it, not apply it again.
    if (input.delayMs > 0) await delay(input.delayMs, undefined, { signal: context.signal });
    const { rows } = await pool.query('SELECT account, amount FROM keel_chaos_effects WHERE idempotency_key = $1', [key]);
    return { receipt: key, account: rows[0].account, amount: rows[0].amount };
  },
};

module.exports = { tools: [ledgerWrite], resetLedger };

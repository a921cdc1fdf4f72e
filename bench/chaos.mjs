// npm run chaos [-- --quick]: nothing lost, nothing done twice. Starts a dev server (SQLite file)
// and a real `keel worker` process with the PostgreSQL ledger tool (bench/chaos-tools.js), then:
//   1. kills the worker with SIGKILL at random moments while runs are in flight, and restarts it
//      (half the runs are plans of tool tasks, half agent loops whose model, a loopback server that
//      speaks OpenAI's wire format, calls the ledger tool through native tool calls);
//   2. kills and restarts the dev server on the same SQLite file mid-run;
//   3. a model fault storm (30% transient, 10% rate-limited, 5% malformed) against predicted outcomes;
//   4. adversarial plans (cycles, unknown tools, 10,000 tasks, self-referencing replans; a cycle, an unknown tool and a missing dependency also as a request's own plan);
//   5. random and malformed requests, decisions, scenario files and corrupted histories (fast-check).
// Prints "N tried, N survived, N lost, N duplicated" for each; writes bench/results/chaos-<date>.{json,md}.
// Exit 1 when anything was lost, duplicated or crashed the worker.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import fc from 'fast-check';
import pg from 'pg';
import { findTemporalCli, startDevServer } from '../dist/servers/dev-server.js';
import { freeLoopbackPort } from '../dist/cli/ports.js';
import { KeelClient } from '../dist/client/index.js';
import { parseScenario } from '../dist/shared/index.js';
import { parseHistory } from '../dist/trace/replay.js';
import { commit, machine, writeResults } from './measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, seed: { type: 'string', default: '7' }, only: { type: 'string', default: '1,2,3,4,5' } } });
const quick = values.quick;
const only = new Set(values.only.split(',').map(Number));
const sizes = quick
  ? { killRuns: 20, kills: 2, restartRuns: 10, stormRuns: 40, fuzz: 150 }
  : { killRuns: 100, kills: 5, restartRuns: 50, stormRuns: 200, fuzz: 1000 };
const ledgerUrl = process.env.KEEL_CHAOS_LEDGER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.KEEL_CHAOS_LEDGER_URL = ledgerUrl;
const taskQueue = 'keel-chaos';
const log = (line) => process.stderr.write(`chaos: ${line}\n`);

// A seeded PRNG, so a run of the suite can be repeated (kill moments included).
function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(Number(values.seed));

const work = mkdtempSync(path.join(tmpdir(), 'keel-chaos-'));
const databaseFile = path.join(work, 'temporal.sqlite');
const binary = await findTemporalCli({ ...(process.env.TEMPORAL_CLI_PATH ? { explicitPath: process.env.TEMPORAL_CLI_PATH } : {}), log });
const port = await freeLoopbackPort();
const uiPort = await freeLoopbackPort();
const address = `127.0.0.1:${port}`;
const startServer = () => startDevServer({ binary, databaseFile, port, uiPort, namespace: 'default' });
let server = await startServer();
/** Restarting on the same ports; a port still held a moment after the kill is waited out, a few times. */
async function restartServer() {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServer();
    } catch (error) {
      if (attempt >= 3 || !/address already in use/.test(String(error))) throw error;
      log(`the dev server's port is still held after the kill; trying again (${attempt})`);
      await sleep(2_000);
    }
  }
}

// The agent runs' model: answers each step from the conversation it is sent (how many tool-call
// turns it already has), so a step retried after a kill is answered the same as the first time.
const modelServer = createServer((request, response) => {
  let raw = '';
  request.on('data', (chunk) => (raw += chunk));
  request.on('end', () => {
    if (request.method === 'GET') return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [] }));
    const body = JSON.parse(raw);
    response.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' });
    const i = Number(/chaos ledger (\d+)/.exec(body.messages?.[1]?.content ?? '')?.[1]);
    const steps = agentLedgerSteps(i);
    const done = body.messages.filter((message) => message.role === 'assistant').length;
    const calls = body.tools ? steps[done] : undefined;
    const message = calls
      ? { role: 'assistant', content: null, tool_calls: calls.map((input, index) => ({ id: `c${index}`, type: 'function', function: { name: 'ledger_write', arguments: JSON.stringify(input) } })) }
      : { role: 'assistant', content: body.tools ? `settled ${i}` : 'this chaos model only drives agent loops' };
    const usage = { prompt_tokens: 200, completion_tokens: 20, total_tokens: 220 };
    if (body.stream) {
      // As OpenAI streams: the message as chunks, then the usage, then [DONE].
      const chunk = (delta, finish = null, extra = {}) => `data: ${JSON.stringify({ id: 'chaos', object: 'chat.completion.chunk', created: 0, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
      const delta = message.tool_calls ? { role: 'assistant', tool_calls: message.tool_calls.map((call, index) => ({ index, ...call })) } : { role: 'assistant', content: message.content };
      response.end(`${chunk(delta)}${chunk({}, calls ? 'tool_calls' : 'stop')}data: ${JSON.stringify({ id: 'chaos', object: 'chat.completion.chunk', created: 0, model: body.model, choices: [], usage })}\n\ndata: [DONE]\n\n`);
      return;
    }
    response.end(JSON.stringify({ id: 'chaos', object: 'chat.completion', created: 0, model: body.model, choices: [{ index: 0, finish_reason: calls ? 'tool_calls' : 'stop', message }], usage }));
  });
});
await new Promise((resolve) => modelServer.listen(0, '127.0.0.1', resolve));
const modelBaseUrl = `http://127.0.0.1:${modelServer.address().port}/v1`;

const { resetLedger } = require('./chaos-tools.js');
const ledger = new pg.Pool({ connectionString: ledgerUrl, max: 4 });
await resetLedger(ledger);

// The worker: a real `keel worker` process. An exit we did not cause is a crash, and counts.
const crashes = [];
let worker;
function startWorker() {
  const child = spawn(process.execPath, [path.join(root, 'bin/keel.js'), 'worker'], {
    cwd: root,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      KEEL_TASK_QUEUE: taskQueue,
      KEEL_HOME: work,
      KEEL_TOOLS: path.join(here, 'chaos-tools.js'),
      KEEL_CHAOS_LEDGER_URL: ledgerUrl,
      KEEL_MAX_CONCURRENT_ACTIVITIES: '500',
      KEEL_LOG_LEVEL: 'ERROR',
      OPENAI_API_KEY: 'sk-chaos-0123456789',
      OPENAI_BASE_URL: modelBaseUrl,
      ANTHROPIC_API_KEY: '',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const output = [];
  child.stderr.on('data', (chunk) => output.push(String(chunk)));
  child.expectedExit = false;
  child.on('exit', (code, signal) => {
    if (!child.expectedExit) crashes.push({ pid: child.pid, code, signal, output: output.join('').slice(-2_000) });
  });
  worker = child;
  return child;
}
async function killWorker(signal = 'SIGKILL') {
  const child = worker;
  child.expectedExit = true;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

const keel = await KeelClient.connect({ address, taskQueue });

/** Tries again every 500 ms while the server or worker is away; past the deadline the last error stands. */
async function untilDeadline(call, deadline) {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}
/** A run's result through worker and server restarts; a run that does not end in time is lost. */
const settle = (workflowId, deadline) => untilDeadline(() => keel.getResult(workflowId), deadline).catch((error) => ({ status: 'lost', reason: error.message }));
const startWithRetry = (request, deadline) => untilDeadline(() => keel.startRun(request), deadline);

// Runs for suites 1 and 2: four ledger postings (debit → fee, credit → settle), each slow after its
// effect, so kills land between an effect and its completion.
const ledgerDelays = (i) => {
  const r = prng(1_000 + i);
  return Array.from({ length: 4 }, () => 800 + Math.floor(r() * 2_200));
};
/** The same four postings as an agent loop's steps: debit and fee at once, then credit, then settle. */
function agentLedgerSteps(i) {
  const [d1, d2, d3, d4] = ledgerDelays(i);
  return [
    [{ account: `acct-${i}`, amount: -100, delayMs: d1 }, { account: 'fees', amount: 1, delayMs: d2 }],
    [{ account: `acct-${i + 1}`, amount: 99, delayMs: d3 }],
    [{ account: `acct-${i}`, amount: 0, delayMs: d4 }],
  ];
}
function ledgerRequest(prefix, i) {
  // Odd runs are agent loops (no scenario: the loopback model above drives them).
  if (i % 2 === 1) return { goal: `chaos ledger ${i}`, idempotencyKey: `${prefix}-${i}`, tools: ['ledger_write'], budgetUsd: 1, agent: { maxSteps: 6 } };
  const [d1, d2, d3, d4] = ledgerDelays(i);
  const post = (id, account, amount, delayMs, dependsOn) => ({ id, kind: 'tool', tool: 'ledger_write', description: `post ${amount} to ${account}`, input: { account, amount, delayMs }, dependsOn });
  return {
    goal: `chaos ledger ${i}`,
    idempotencyKey: `${prefix}-${i}`,
    tools: ['ledger_write'],
    budgetUsd: 1,
    scenario: {
      model: {
        plan: [{ tasks: [post('debit', `acct-${i}`, -100, d1, []), post('fee', 'fees', 1, d2, ['debit']), post('credit', `acct-${i + 1}`, 99, d3, ['debit']), post('settle', `acct-${i}`, 0, d4, ['fee', 'credit'])], usage: { inputTokens: 200, outputTokens: 100 } }],
        synthesize: [{ text: `settled ${i}`, usage: { inputTokens: 100, outputTokens: 20 } }],
      },
    },
  };
}

/** What must not differ from an undisturbed run: status, answer, tasks, cost and the ledger's effects. */
async function signature(result) {
  // An agent's calls share its task id; their keys (…:<step>:<call index>) order them.
  const { rows } = await ledger.query('SELECT task_id, account, amount FROM keel_chaos_effects WHERE workflow_id = $1 ORDER BY task_id, idempotency_key', [result.workflowId]);
  return JSON.stringify({
    status: result.status,
    output: result.output,
    tasks: result.tasks.map((task) => [task.id, task.status]).sort(),
    costUsd: result.costUsd,
    effects: rows.map((row) => [row.task_id, row.account, row.amount]),
  });
}

async function duplicatesOf(prefix) {
  const effects = await ledger.query(
    // One effect a task, or, in an agent loop, one a call (its step and place).
    `SELECT count(*)::int AS n FROM (SELECT workflow_id, CASE WHEN task_id = 'agent' THEN idempotency_key ELSE task_id END FROM keel_chaos_effects WHERE workflow_id LIKE $1 GROUP BY 1, 2 HAVING count(*) > 1) d`,
    [`${prefix}-%`],
  );
  const redelivered = await ledger.query(
    `SELECT count(*)::int AS n FROM (SELECT idempotency_key FROM keel_chaos_deliveries WHERE workflow_id LIKE $1 GROUP BY 1 HAVING count(*) > 1) d`,
    [`${prefix}-%`],
  );
  return { duplicated: effects.rows[0].n, redelivered: redelivered.rows[0].n };
}

const report = { date: new Date().toISOString(), quick, seed: Number(values.seed), machine: machine(), commit: commit(), suites: [] };
function record(suite) {
  report.suites.push(suite);
  log(`${suite.name}: ${suite.tried} tried, ${suite.survived} survived, ${suite.lost} lost, ${suite.duplicated} duplicated${suite.note ? ` — ${suite.note}` : ''}`);
}

/** A suite that throws is reported as one that lost everything, with the error, and the rest still run. */
async function guarded(name, suite) {
  try {
    return await suite();
  } catch (error) {
    return { name, tried: 1, survived: 0, lost: 1, duplicated: 0, error: String(error.stack ?? error), note: `the suite itself failed: ${error.message}` };
  }
}

try {
  startWorker();

  // The undisturbed runs every disturbed one is compared with.
  const calmCount = only.has(1) || only.has(2) ? Math.max(sizes.killRuns, sizes.restartRuns) : 0;
  const calm = new Map();
  {
    const deadline = Date.now() + 180_000;
    const started = await Promise.all(Array.from({ length: calmCount }, (_, i) => startWithRetry(ledgerRequest('calm', i), deadline)));
    const results = await Promise.all(started.map(({ workflowId }) => settle(workflowId, deadline)));
    for (const [i, result] of results.entries()) {
      if (result.status !== 'completed') throw new Error(`an undisturbed run ended ${result.status}: ${result.reason}`);
      calm.set(i, (await signature(result)).replaceAll(`calm-${i}`, 'RUN'));
    }
    log(`${calmCount} undisturbed runs completed`);
  }

  async function compare(prefix, count, results) {
    let survived = 0;
    const mismatches = [];
    for (const [i, result] of results.entries()) {
      const same = result.status !== 'lost' && (await signature(result)).replaceAll(`${prefix}-${i}`, 'RUN') === calm.get(i);
      if (same) survived += 1;
      else mismatches.push({ run: `${prefix}-${i}`, status: result.status, reason: result.reason });
    }
    const lost = results.filter((result) => result.status === 'lost').length;
    return { tried: count, survived, lost, mismatched: mismatches.length - lost, mismatches: mismatches.slice(0, 10), ...(await duplicatesOf(prefix)) };
  }

  // 1. SIGKILL the worker at random moments while runs are in flight; restart it each time.
  if (only.has(1)) {
    const prefix = 'kill';
    const startedAt = Date.now();
    const deadline = Date.now() + 600_000;
    const started = await Promise.all(Array.from({ length: sizes.killRuns }, (_, i) => startWithRetry(ledgerRequest(prefix, i), deadline)));
    let open = started.length;
    const settled = Promise.all(started.map(({ workflowId }) => settle(workflowId, deadline).finally(() => (open -= 1))));
    const kills = [];
    for (let k = 0; k < sizes.kills && open > 0; k++) {
      await sleep(1_500 + Math.floor(random() * 3_500));
      if (open === 0) break;
      const { rows } = await ledger.query("SELECT count(*)::int AS n FROM keel_chaos_deliveries WHERE workflow_id LIKE 'kill-%'");
      kills.push({ atMs: Date.now() - startedAt, runsOpen: open, deliveriesSoFar: rows[0].n, pid: worker.pid });
      await killWorker();
      startWorker();
    }
    const results = await settled;
    const outcome = await compare(prefix, sizes.killRuns, results);
    record({ name: 'worker SIGKILL', ...outcome, kills, seconds: (Date.now() - startedAt) / 1000, note: `${kills.length} kills with runs in flight; ${outcome.redelivered} tool calls delivered again after a kill and absorbed by the idempotency key; ${outcome.mismatched} results differ from undisturbed runs` });
  }

  // 2. Kill the dev server (SIGKILL) mid-run and start it again on the same SQLite file.
  if (only.has(2)) {
    const prefix = 'restart';
    const startedAt = Date.now();
    const deadline = Date.now() + 600_000;
    const started = await Promise.all(Array.from({ length: sizes.restartRuns }, (_, i) => startWithRetry(ledgerRequest(prefix, i), deadline)));
    const settled = Promise.all(started.map(({ workflowId }) => settle(workflowId, deadline)));
    await sleep(2_500);
    server.process.kill('SIGKILL');
    await new Promise((resolve) => (server.process.exitCode !== null || server.process.signalCode !== null ? resolve() : server.process.once('exit', resolve)));
    const downAt = Date.now();
    await sleep(2_000);
    server = await restartServer();
    const downMs = Date.now() - downAt;
    const results = await settled;
    const outcome = await compare(prefix, sizes.restartRuns, results);
    record({ name: 'dev server SIGKILL + restart (same SQLite file)', ...outcome, serverDownMs: downMs, seconds: (Date.now() - startedAt) / 1000, note: `server down ${(downMs / 1000).toFixed(1)} s; the worker and client reconnected; ${outcome.mismatched} results differ from undisturbed runs` });
  }

  // 3. Model fault storm against each run's predicted outcome.
  if (only.has(3)) record(await guarded('faultStorm', faultStorm));

  // 4. Adversarial plans.
  if (only.has(4)) record(await guarded('adversarialPlans', adversarialPlans));

  // 5. Bad input (fast-check).
  if (only.has(5)) record(await guarded('badInput', badInput));

  if (crashes.length > 0) log(`worker crashes: ${JSON.stringify(crashes, null, 2)}`);
  report.workerCrashes = crashes.length;
} finally {
  if (worker) await killWorker('SIGTERM').catch(() => undefined);
  await keel.close().catch(() => undefined);
  await server.stop().catch(() => undefined);
  await ledger.end().catch(() => undefined);
  modelServer.close();
  rmSync(work, { recursive: true, force: true });
}

// ── 3 ────────────────────────────────────────────────────────────────────────────────────────────
/**
 * Each model call of a task faults with 30% transient, 10% rate_limit (Retry-After 100 ms), 5%
 * malformed, drawn per attempt until one succeeds. The prediction follows Keel's documented policy:
 * transient 4 attempts, rate_limit 6 (attempts counted per activity), malformed re-asked twice;
 * a critical task that fails escalates, a non-critical one is skipped (run `partial`).
 */
async function faultStorm() {
  const prefix = 'storm';
  const startedAt = Date.now();
  const deadline = Date.now() + 900_000;
  const runs = Array.from({ length: sizes.stormRuns }, (_, i) => stormRun(i));
  const started = await Promise.all(runs.map((run) => startWithRetry(run.request, deadline)));
  const results = await Promise.all(started.map(({ workflowId }) => settle(workflowId, deadline)));
  const outcomes = results.map((result, i) => ({ predicted: runs[i].predicted, result }));
  const actual = ({ result }) => (result.status === 'lost' ? 'lost' : result.escalations.length > 0 ? 'escalated' : result.status);
  const wrong = outcomes.filter((outcome) => actual(outcome) !== outcome.predicted);
  const overBudget = results.filter((result) => result.status !== 'lost' && result.costUsd > result.budgetUsd + 1e-9);
  const tally = (pick) => Object.entries(outcomes.reduce((counts, outcome) => ({ ...counts, [pick(outcome)]: (counts[pick(outcome)] ?? 0) + 1 }), {})).map(([k, v]) => `${v} ${k}`).join(', ');
  const faults = runs.reduce((sum, run) => sum + run.faults, 0);
  return {
    name: 'model fault storm (30% transient, 10% rate-limited, 5% malformed)',
    tried: sizes.stormRuns,
    survived: sizes.stormRuns - wrong.length - overBudget.length,
    lost: results.filter((result) => result.status === 'lost').length,
    duplicated: 0,
    faultsInjected: faults,
    predicted: tally((outcome) => outcome.predicted),
    actual: tally(actual),
    overBudget: overBudget.length,
    wrong: wrong.slice(0, 10).map((outcome) => ({ run: outcome.result.workflowId, predicted: outcome.predicted, status: outcome.result.status, reason: outcome.result.reason })),
    seconds: (Date.now() - startedAt) / 1000,
    note: `${faults} faults injected; outcomes ${tally(actual)}; ${overBudget.length} over budget; ${wrong.length} differ from the prediction`,
  };

  function stormRun(i) {
    const r = prng(50_000 + i);
    let faults = 0;
    const script = (critical) => {
      const entries = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        const x = r();
        if (x < 0.3) entries.push({ fail: 'transient' });
        else if (x < 0.4) entries.push({ fail: 'rate_limit', retryAfterMs: 100 });
        else if (x < 0.45) entries.push({ fail: 'malformed', message: 'the answer is not JSON' });
        else {
          entries.push({ json: { answer: `answer ${i}` }, usage: { inputTokens: 300, outputTokens: 60 } });
          break;
        }
        faults += 1;
      }
      return { entries, fails: !succeeds(entries), critical };
    };
    const tasks = { t1: script(true), t2: script(false), t3: script(false), t4: script(false) };
    const predicted = tasks.t1.fails ? 'escalated' : Object.values(tasks).some((task) => task.fails) ? 'partial' : 'completed';
    // requiredFields: the answer must be JSON with `answer`, so a malformed reply (text that is not JSON) is caught.
    const llm = (id, critical, dependsOn) => ({ id, kind: 'llm', description: `answer part ${id} of ${i}`, critical, dependsOn, requiredFields: ['answer'] });
    return {
      faults,
      predicted,
      request: {
        goal: `chaos storm ${i}`,
        idempotencyKey: `${prefix}-${i}`,
        budgetUsd: 0.05,
        escalation: { timeoutMs: 1_000, defaultAction: 'reject' },
        scenario: {
          model: {
            plan: [{ tasks: [llm('t1', true, []), llm('t2', false, ['t1']), llm('t3', false, ['t1']), llm('t4', false, ['t1'])], usage: { inputTokens: 500, outputTokens: 200 } }],
            'task:t1': tasks.t1.entries,
            'task:t2': tasks.t2.entries,
            'task:t3': tasks.t3.entries,
            'task:t4': tasks.t4.entries,
            synthesize: [{ text: `storm ${i} done`, usage: { inputTokens: 400, outputTokens: 50 } }],
          },
        },
      },
    };
  }
}

/** Keel's documented policy, replayed over a script: does the task end with an answer? */
function succeeds(entries) {
  const bound = { transient: 4, rate_limit: 6 };
  let index = 0;
  for (let reasks = 0; reasks <= 2; reasks++) {
    for (let attempt = 1; ; attempt++) {
      const entry = entries[Math.min(index, entries.length - 1)];
      index += 1;
      if (!entry.fail) return true;
      if (entry.fail === 'malformed') break; // not retried with the same input: re-asked
      if (attempt >= bound[entry.fail]) return false;
    }
  }
  return false;
}

// ── 4 ────────────────────────────────────────────────────────────────────────────────────────────
async function adversarialPlans() {
  const startedAt = Date.now();
  const tool = (id, dependsOn = [], name = 'ledger_write') => ({ id, kind: 'tool', tool: name, description: `step ${id}`, input: { account: 'adv', amount: 0 }, dependsOn });
  const plans = [
    { name: 'cycle', plan: [tool('a', ['c']), tool('b', ['a']), tool('c', ['b'])], expect: /cycle/i },
    { name: 'self-dependency', plan: [tool('a', ['a'])], expect: /cycle|itself/i },
    { name: 'unknown tool', plan: [tool('a', [], 'rm_rf_everything')], expect: /rm_rf_everything/ },
    { name: 'missing dependency', plan: [tool('a', ['ghost'])], expect: /ghost/ },
    { name: 'duplicate ids', plan: [tool('a'), tool('a')], expect: /duplicate|twice/i },
    { name: '10,000 tasks', plan: Array.from({ length: 10_000 }, (_, i) => tool(`t${i}`)), expect: /10000|10,000|too many|at most/i },
  ];
  const cases = plans.map(({ name, plan, expect }, i) => ({
    name,
    expect,
    request: { goal: `adversarial ${name}`, idempotencyKey: `adversarial-${i}`, tools: ['ledger_write'], escalation: { timeoutMs: 1_000, defaultAction: 'reject' }, scenario: { model: { plan: [{ tasks: plan }] } } },
  }));
  // The same checks for a plan the request brings itself (no planner call).
  for (const { name, plan, expect } of plans.filter((entry) => ['cycle', 'unknown tool', 'missing dependency'].includes(entry.name))) {
    cases.push({
      name: `${name}, supplied in the request`,
      expect,
      request: { goal: `adversarial supplied ${name}`, idempotencyKey: `adversarial-supplied-${cases.length}`, tools: ['ledger_write'], plan: { tasks: plan }, outputFrom: 'a', escalation: { timeoutMs: 1_000, defaultAction: 'reject' }, scenario: { model: {} } },
    });
  }
  // A plan that names, as the run's answer (outputFrom), a task it does not have.
  cases.push({
    name: 'an answer task the plan lacks',
    expect: /ghost-answer/,
    request: { goal: 'adversarial answer task', idempotencyKey: `adversarial-answer-${cases.length}`, tools: ['ledger_write'], escalation: { timeoutMs: 1_000, defaultAction: 'reject' }, scenario: { model: { plan: [{ tasks: [tool('a')], outputFrom: 'ghost-answer' }] } } },
  });
  // A critical tool that fails semantically, and a planner that answers every replan with the same call.
  cases.push({
    name: 'self-referencing replans',
    expect: /repeat|same|replan/i,
    request: {
      goal: 'adversarial replans',
      idempotencyKey: 'adversarial-replans',
      tools: ['flaky'],
      maxReplans: 3,
      escalation: { timeoutMs: 1_000, defaultAction: 'reject' },
      scenario: {
        model: { plan: [{ tasks: [{ id: 'x', kind: 'tool', tool: 'flaky', description: 'call flaky', input: { n: 1 } }] }] },
        tools: { flaky: [{ fail: 'semantic', message: 'flaky refuses n=1' }] },
      },
    },
  });
  const deadline = Date.now() + 300_000;
  const outcomes = [];
  for (const { name, expect, request } of cases) {
    const pid = worker.pid;
    const { workflowId } = await startWithRetry(request, deadline);
    const result = await settle(workflowId, deadline);
    const explained = result.status !== 'completed' && result.status !== 'lost' && expect.test(`${result.reason ?? ''} ${JSON.stringify(result.planHistory ?? [])} ${JSON.stringify(result.escalations ?? [])}`);
    const { rows } = await ledger.query("SELECT count(*)::int AS n FROM keel_chaos_effects WHERE workflow_id = $1", [workflowId]);
    outcomes.push({ name, status: result.status, reason: String(result.reason ?? '').slice(0, 300), explained, effects: rows[0].n, workerAlive: worker.pid === pid && worker.exitCode === null });
  }
  // And the worker still does ordinary work.
  const after = await settle((await startWithRetry(ledgerRequest('after-adversarial', 0), deadline)).workflowId, deadline);
  const survived = outcomes.filter((outcome) => outcome.explained && outcome.effects === 0 && outcome.workerAlive).length;
  return {
    name: 'adversarial plans',
    tried: outcomes.length,
    survived,
    lost: outcomes.filter((outcome) => outcome.status === 'lost').length,
    duplicated: 0,
    cases: outcomes,
    afterwards: after.status,
    seconds: (Date.now() - startedAt) / 1000,
    note: `${outcomes.map((outcome) => `${outcome.name} → ${outcome.status}`).join('; ')}; an ordinary run afterwards ${after.status}`,
  };
}

// ── 5 ────────────────────────────────────────────────────────────────────────────────────────────
/** A message a person can act on: says where the problem is, and is not a crash's TypeError. */
function nested(levels) {
  let value = 'bottom';
  for (let level = 0; level < levels; level++) value = { next: value };
  return value;
}

function clear(message) {
  return typeof message === 'string' && message.length >= 12 && !/cannot read propert|undefined is not|is not a function|\[object Object\]/i.test(message);
}

async function badInput() {
  const startedAt = Date.now();
  const counts = { requests: Math.round(sizes.fuzz * 0.4), decisions: Math.round(sizes.fuzz * 0.3), scenarios: sizes.fuzz - Math.round(sizes.fuzz * 0.4) - Math.round(sizes.fuzz * 0.3) };
  const failures = [];
  let tried = 0;
  let survived = 0;
  const samples = {};
  const note = (kind, input, outcome, message) => {
    tried += 1;
    if (outcome === true) {
      survived += 1;
      samples[kind] ??= [];
      if (samples[kind].length < 3) samples[kind].push({ input: JSON.stringify(input)?.slice(0, 120), error: String(message).slice(0, 300) });
    } else if (failures.length < 10) failures.push({ kind, input: JSON.stringify(input)?.slice(0, 200), outcome });
  };
  const valid = { goal: 'fuzz', tools: ['ledger_write'], budgetUsd: 1 };
  // Requests: a valid one with one field made bad (the error must name that field), noise keys (it
  // must name the unknown key), and values that are not requests at all. Each is { value, names }.
  const known = ['goal', 'tools', 'budgetUsd', 'input', 'maxTasks', 'deadline', 'idempotencyKey', 'maxReplans', 'escalation', 'cache', 'tiers', 'maxHistoryEvents', 'scenario'];
  const badRequests = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(['goal', ''], ['goal', '   '], ['goal', 42], ['budgetUsd', -1], ['budgetUsd', 0], ['budgetUsd', 'ten'], ['budgetUsd', 1e9], ['maxTasks', 0], ['maxTasks', 1.5], ['maxTasks', 100_000], ['tools', 'ledger_write'], ['tools', [1]], ['deadline', 'tomorrow'], ['idempotencyKey', 'has spaces'], ['idempotencyKey', ''], ['maxReplans', 99], ['escalation', { timeoutMs: 5 }], ['escalation', { defaultAction: 'retry' }], ['cache', 'no'], ['tiers', { a: 'huge' }], ['input', [1, 2]], ['scenario', { model: { plan: [] } }], ['scenario', { tools: { x: [{ fail: 'kaboom' }] } }], ['maxHistoryEvents', 3], ['deadline', '2001-01-01T00:00:00Z'], ['goal', '\u200b\u200c\u2060'], ['goal', 'x'.repeat(10_001)], ['goal', ' \u202e '])
        .map(([key, value]) => ({ value: { ...valid, [key]: value }, names: key })),
    },
    // Shapes that broke doors once: nesting thousands deep, and payloads past what a run carries.
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.integer({ min: 65, max: 5_000 }).map((levels) => ({ value: { ...valid, input: nested(levels) }, names: 'nested more than 64 levels deep' })),
        fc.integer({ min: 1_600_000, max: 2_500_000 }).map((bytes) => ({ value: { ...valid, input: { blob: 'x'.repeat(bytes) } }, names: 'bytes of JSON' })),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !known.includes(key)), fc.anything()).map(([key, value]) => ({ value: { ...valid, [key]: value }, names: 'Unrecognized key' })) },
    { weight: 1, arbitrary: fc.anything().filter((value) => value === null || typeof value !== 'object' || Array.isArray(value) || !('goal' in value)).map((value) => ({ value, names: '' })) },
  );
  for (const { value: request, names } of fc.sample(badRequests, { numRuns: counts.requests, seed: Number(values.seed) })) {
    try {
      const started = await keel.startRun(request);
      note('request', request, `accepted: started ${started.workflowId}`);
    } catch (error) {
      note('request', request, error.name === 'InvalidRequestError' && clear(error.message) && error.message.includes(names) ? true : `${error.name}: ${error.message} (should name ${names})`, error.message);
    }
  }
  // A few go straight to the workflow, past the client's check: the workflow must refuse them itself.
  const direct = fc.sample(badRequests, { numRuns: 5, seed: Number(values.seed) + 1 }).map((item) => item.value);
  for (const [i, request] of direct.entries()) {
    let handle;
    try {
      handle = await keel.temporal.workflow.start('agentRun', { taskQueue, workflowId: `fuzz-direct-${i}`, args: [request] });
    } catch (error) {
      // Temporal itself refused it (too large to be a payload, say): nothing started, and it said why.
      note('request sent to the workflow directly', request, clear(error.message) ? true : `${error.name}: ${error.message}`, error.message);
      continue;
    }
    const outcome = await Promise.race([handle.result().then((result) => result, (error) => ({ status: 'failed', reason: `${error.message} ${error.cause?.message ?? ''}` })), sleep(60_000).then(() => ({ status: 'lost' }))]);
    note('request sent to the workflow directly', request, outcome.status !== 'completed' && outcome.status !== 'lost' && clear(outcome.reason) ? true : `ended ${outcome.status}: ${outcome.reason}`, outcome.reason);
  }

  // Decisions: a run waits on a human (a critical tool fails permanently); every bad decision is refused and it keeps waiting.
  const waiting = await keel.startRun({
    goal: 'fuzz decisions',
    tools: ['vault'],
    escalation: { timeoutMs: 3_600_000, defaultAction: 'reject' },
    scenario: { model: { plan: [{ tasks: [{ id: 'open', kind: 'tool', tool: 'vault', description: 'open the vault', input: {} }] }] }, tools: { vault: [{ fail: 'permanent', message: 'the vault is locked' }] } },
  });
  const deadline = Date.now() + 60_000;
  while (!(await keel.getPending(waiting.workflowId).catch(() => null))) {
    if (Date.now() > deadline) throw new Error('the decision fuzz run never escalated');
    await sleep(250);
  }
  const badDecisions = fc.oneof(
    fc.record({ decision: fc.string().filter((s) => !['approve', 'reject', 'replan', 'retry', 'skip'].includes(s)) }),
    fc.record({ decision: fc.constantFrom('approve', 'reject', 'retry', 'skip'), taskId: fc.string({ minLength: 1 }).filter((s) => s !== 'open') }),
    fc.record({ decision: fc.constant('approve'), note: fc.string({ minLength: 4_001, maxLength: 4_100 }) }),
    fc.record({ decision: fc.constant('approve'), budgetUsd: fc.constantFrom(2, 0.5) }), // only for a budget escalation
    fc.record({ decision: fc.constant('approve'), by: fc.constantFrom('\u001b[2J\u0007', 'x'.repeat(201), '\u202e') , note: fc.string({ minLength: 4_001, maxLength: 4_050 }) }),
    fc.constantFrom('extra', 'force', 'sudo').chain((key) => fc.record({ decision: fc.constant('approve'), [key]: fc.anything().filter((value) => value !== undefined) })),
    fc.anything().filter((value) => value === null || typeof value !== 'object' || Array.isArray(value) || !('decision' in value)),
  );
  for (const decision of fc.sample(badDecisions, { numRuns: counts.decisions, seed: Number(values.seed) + 2 })) {
    try {
      await keel.temporal.workflow.getHandle(waiting.workflowId).executeUpdate('decide', { args: [decision] });
      note('decision', decision, 'accepted');
    } catch (error) {
      const message = error.cause?.message ?? error.message;
      note('decision', decision, error.name === 'WorkflowUpdateFailedError' && clear(message) ? true : `${error.name}: ${message}`, message);
    }
  }
  const stillWaiting = (await keel.getPending(waiting.workflowId).catch(() => null)) !== null;
  if (stillWaiting) await keel.decide(waiting.workflowId, { decision: 'reject', note: 'end of the fuzz' });
  const decided = await keel.getResult(waiting.workflowId);
  if (!stillWaiting) note('decision run', decided, `the run stopped waiting during the fuzz: ${decided.status} ${decided.reason ?? ''} ${JSON.stringify(decided.escalations)}`.slice(0, 600));

  // Scenario files: text that is not JSON, JSON that is not a scenario, and a valid scenario with one
  // part made bad; the error must name the part. The valid one must parse, or the suite proves nothing.
  const validScenario = { name: 'fuzz', request: { goal: 'fuzz', budgetUsd: 0.1 }, model: { plan: [{ tasks: [{ id: 'a', kind: 'llm', description: 'answer' }] }], synthesize: [{ text: 'ok' }] }, tools: { x: [{ result: 1 }] } };
  parseScenario(JSON.stringify(validScenario), 'valid.json');
  const withPart = (path, value) => {
    const copy = structuredClone(validScenario);
    let target = copy;
    for (const key of path.slice(0, -1)) target = target[key];
    if (value === undefined) delete target[path.at(-1)];
    else target[path.at(-1)] = value;
    return JSON.stringify(copy);
  };
  const badScenarios = fc.oneof(
    fc.string().filter((text) => { try { JSON.parse(text); return false; } catch { return true; } }).map((text) => ({ text, names: 'not valid JSON' })),
    fc.anything().filter((value) => value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))).map((value) => ({ text: JSON.stringify(value), names: '(root)' })),
    fc
      .constantFrom([['name'], undefined], [['request', 'goal'], ''], [['request'], undefined], [['request', 'budgetUsd'], -5], [['request', 'maxTasks'], 'many'], [['model', 'plan'], []], [['model', 'plan', 0], { fail: 'explode' }], [['model', 'plan', 0], { fail: 'transient', delayMs: -1 }], [['tools', 'x'], []], [['tools', 'x', 0], { result: 1, extra: true }], [['expect'], { status: 'happy' }], [['request', 'scenario'], {}, 'move request.scenario.model to "model"'])
      .map(([path, value, names]) => ({ text: withPart(path, value), names: names ?? path.join('.') })),
  );
  for (const { text, names } of fc.sample(badScenarios, { numRuns: counts.scenarios, seed: Number(values.seed) + 3 })) {
    try {
      parseScenario(text, 'fuzz.json');
      note('scenario file', text, 'accepted');
    } catch (error) {
      note('scenario file', text, error.name === 'InvalidScenarioError' && clear(error.message) && error.message.includes(names) ? true : `${error.name}: ${error.message} (should name ${names})`, error.message);
    }
  }
  // Histories: a recorded run with an event removed, two swapped, or emptied must be refused as not
  // whole (the SDK's replayer stops answering on some of these), never taken.
  const recorded = JSON.parse(readFileSync(path.join(root, 'test/histories/onboarding.json'), 'utf8'));
  const lastEvent = recorded.events.length - 1;
  const corrupted = fc.oneof(
    fc.integer({ min: 0, max: lastEvent - 1 }).map((index) => ({ how: `event ${index + 1} removed`, events: recorded.events.filter((_event, at) => at !== index) })),
    fc.tuple(fc.integer({ min: 0, max: lastEvent }), fc.integer({ min: 0, max: lastEvent })).filter(([a, b]) => a !== b).map(([a, b]) => {
      const events = [...recorded.events];
      [events[a], events[b]] = [events[b], events[a]];
      return { how: `events ${a + 1} and ${b + 1} swapped`, events };
    }),
    fc.constant({ how: 'no events', events: [] }),
  );
  counts.histories = Math.max(10, Math.round(sizes.fuzz / 10));
  for (const { how, events } of fc.sample(corrupted, { numRuns: counts.histories, seed: Number(values.seed) + 4 })) {
    try {
      parseHistory(JSON.stringify({ events }), `corrupted (${how})`);
      note('history', how, 'taken as whole');
    } catch (error) {
      note('history', how, error.name === 'InvalidHistoryError' && clear(error.message) ? true : `${error.name}: ${error.message}`, error.message);
    }
  }
  const after = await settle((await startWithRetry(ledgerRequest('after-fuzz', 0), deadline + 120_000)).workflowId, Date.now() + 120_000);
  return {
    name: 'bad input (fast-check): requests, decisions, scenario files, histories',
    tried,
    survived,
    lost: tried - survived,
    duplicated: 0,
    failures,
    samples,
    decisionRunStillWaiting: stillWaiting,
    decisionRunEnded: decided.status,
    afterwards: after.status,
    seconds: (Date.now() - startedAt) / 1000,
    note: `${counts.requests} requests (+5 sent past the client), ${counts.decisions} decisions, ${counts.scenarios} scenario files, ${counts.histories} corrupted histories; the run kept waiting through every bad decision: ${stillWaiting}; an ordinary run afterwards ${after.status}`,
  };
}

// ── report ───────────────────────────────────────────────────────────────────────────────────────
const lines = [
  `# Keel chaos suite · ${report.date}`,
  '',
  `${report.machine} · at ${report.commit} · seed ${report.seed}${quick ? ' · quick (CI) sizes' : ''} · one dev server (SQLite file), one \`keel worker\` process, PostgreSQL ledger`,
  '',
  '| suite | tried | survived | lost | duplicated | notes |',
  '|---|---|---|---|---|---|',
  ...report.suites.map((suite) => `| ${suite.name} | ${suite.tried} | ${suite.survived} | ${suite.lost} | ${suite.duplicated} | ${suite.note ?? ''} |`),
  '',
  `Worker crashes not caused by the suite: ${report.workerCrashes ?? 'n/a'}.`,
];
const md = lines.join('\n');
console.log(md);
writeResults(`chaos-${quick ? 'quick' : report.date.slice(0, 10)}.json`, report, { overwrite: quick, markdown: md });
for (const suite of report.suites) console.log(`${suite.name}: ${suite.tried} tried, ${suite.survived} survived, ${suite.lost} lost, ${suite.duplicated} duplicated`);
const bad = report.suites.some((suite) => suite.survived !== suite.tried || suite.lost > 0 || suite.duplicated > 0) || (report.workerCrashes ?? 1) > 0;
process.exit(bad ? 1 : 0);

// npm run bench:contracts: what checking a run's request costs the workflow, each way it could be
// done. The SDK evaluates a workflow bundle's modules for every run, so each option is bundled
// alone (webpack, as the SDK bundles: development mode) and timed as a run would pay for it:
// evaluate the bundle in a fresh V8 context, then check one request. Options:
//   generated - Keel's checker reading the JSON Schemas generated from the zod schemas (what ships);
//   hand      - the hand-written checker it replaced (git 79738d8:src/workflows/contracts.ts);
//   zod       - zod itself with Keel's schemas (the client's check);
//   zod/mini  - zod/mini with the request schema written in its functional form (top level,
//               tasks and scenario entries: a lower bound of what all the contracts would cost).
// Prints ms a run and bundle bytes, and each against a bundle with no check, measured in the same run.
// Writes nothing: the figures quoted in docs come from a copy in bench/results/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import webpack from 'webpack';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(path.join(os.tmpdir(), 'keel-contract-bench-'));
const runs = Number(process.argv[2] ?? 300);
const request = JSON.parse(readFileSync(path.join(root, 'examples/support-agent.json'), 'utf8')).request;

const handSource = execFileSync('git', ['show', '79738d8:src/workflows/contracts.ts'], { cwd: root, encoding: 'utf8' });
writeFileSync(
  path.join(work, 'hand.js'),
  ts.transpileModule(handSource, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText.replace(/["']\.\.\/shared\/workflow["']/, JSON.stringify(path.join(root, 'dist/shared/workflow.js'))),
);
// Every option carries what the workflow bundle carries anyway (the workflow-safe contracts and the
// SDK's workflow modules they import), so the differences are the options' own.
const base = `require(${JSON.stringify(path.join(root, 'dist/shared/workflow.js'))});\n`;
writeFileSync(path.join(work, 'empty.js'), `${base}exports.check = (value) => ({ success: true, data: value });\n`);
writeFileSync(path.join(work, 'generated.js'), `exports.check = require(${JSON.stringify(path.join(root, 'dist/workflows/contracts.js'))}).checkAgentRequest;\n`);
writeFileSync(path.join(work, 'hand-entry.js'), `exports.check = require('./hand.js').checkAgentRequest;\n`);
writeFileSync(path.join(work, 'zod.js'), `${base}const { AgentRequestSchema } = require(${JSON.stringify(path.join(root, 'dist/shared/request.js'))});\nexports.check = (value) => AgentRequestSchema.safeParse(value);\n`);
writeFileSync(
  path.join(work, 'zod-mini.js'),
  `${base}const z = require('zod/mini');
const tier = z.enum(['small', 'medium', 'large']);
const task = z.strictObject({ id: z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/)), kind: z.enum(['llm', 'tool', 'human_review', 'agent']), description: z.string().check(z.minLength(1)),
  tool: z.optional(z.string()), input: z.optional(z.record(z.string(), z.unknown())), dependsOn: z._default(z.array(z.string()), []), critical: z._default(z.boolean(), true), tier: z.optional(tier),
  timeoutMs: z.optional(z.number().check(z.int(), z.positive(), z.maximum(3600000))), maxAttempts: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(20))),
  requiredFields: z.optional(z.array(z.string())), tools: z.optional(z.array(z.string())), maxSteps: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(50))) });
const failure = z.strictObject({ fail: z.enum(['transient', 'rate_limit', 'timeout', 'permanent', 'malformed', 'context', 'budget', 'semantic']), message: z.optional(z.string()), delayMs: z.optional(z.number()) });
const entries = (entry) => z.array(entry).check(z.minLength(1));
const request = z.strictObject({
  goal: z.string().check(z.trim(), z.minLength(1), z.maxLength(10000), z.regex(/[\\p{L}\\p{N}\\p{P}\\p{S}]/u)),
  input: z._default(z.record(z.string(), z.unknown()), {}), tools: z._default(z.array(z.string()), []), budgetUsd: z._default(z.number().check(z.positive(), z.maximum(10000)), 1),
  maxTasks: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(500)), 20), deadline: z.optional(z.iso.datetime({ offset: true })), idempotencyKey: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_.:@-]{1,200}$/))),
  maxReplans: z._default(z.number().check(z.int(), z.minimum(0), z.maximum(10)), 2),
  escalation: z._default(z.strictObject({ timeoutMs: z._default(z.number(), 86400000), defaultAction: z._default(z.enum(['approve', 'reject', 'skip']), 'reject') }), { timeoutMs: 86400000, defaultAction: 'reject' }),
  cache: z._default(z.boolean(), true), tiers: z._default(z.record(z.string(), tier), {}), maxHistoryEvents: z.optional(z.number()),
  plan: z.optional(z.strictObject({ tasks: z.array(task).check(z.minLength(1)), rationale: z.optional(z.string()), outputFrom: z.optional(z.string()) })), outputFrom: z.optional(z.string()),
  agent: z.optional(z.strictObject({ maxSteps: z.optional(z.number()), maxToolCalls: z.optional(z.number()) })), approvals: z.optional(z.strictObject({ tools: z._default(z.array(z.string()), []) })),
  scenario: z.optional(z.object({ model: z._default(z.record(z.string(), entries(z.union([failure, z.looseObject({ model: z.optional(z.string()) })]))), {}), tools: z._default(z.record(z.string(), entries(z.union([failure, z.strictObject({ result: z.unknown(), delayMs: z.optional(z.number()) })]))), {}) })),
});
exports.check = (value) => z.safeParse(request, value);
`,
);

const options = { empty: 'empty.js', generated: 'generated.js', hand: 'hand-entry.js', zod: 'zod.js', 'zod/mini': 'zod-mini.js' };
const compiler = webpack({
  mode: 'development',
  devtool: false,
  target: 'es2022',
  context: work,
  entry: Object.fromEntries(Object.entries(options).map(([name, file]) => [name.replace('/', '-'), `./${file}`])),
  resolve: { modules: [path.join(root, 'node_modules')] },
  output: { chunkFormat: 'array-push', path: path.join(work, 'out'), filename: '[name].bundle.js', library: { type: 'assign', name: '__keelCheck' } },
});
await new Promise((resolve, reject) => compiler.run((error, stats) => (error || stats.hasErrors() ? reject(error ?? new Error(stats.toString('errors-only'))) : resolve())));

/** One run: evaluate the bundle in a fresh context, check the request. */
function runOnce(script) {
  const context = vm.createContext({});
  script.runInContext(context);
  const checked = context.__keelCheck.check(JSON.parse(JSON.stringify(request)));
  if (!checked.success) throw new Error(`the request failed its check: ${JSON.stringify(checked)}`);
}

// Rounds alternate the options (this machine is noisy); each option's figure is its median round.
const rounds = 7;
const scripts = Object.keys(options).map((name) => {
  const source = readFileSync(path.join(work, 'out', `${name.replace('/', '-')}.bundle.js`), 'utf8');
  const script = new vm.Script(source);
  for (let i = 0; i < 20; i += 1) runOnce(script);
  return { name, bytes: Buffer.byteLength(source), script, rounds: [] };
});
for (let round = 0; round < rounds; round += 1) {
  for (const option of scripts) {
    const cpu = process.cpuUsage();
    for (let i = 0; i < Math.ceil(runs / rounds); i += 1) runOnce(option.script);
    const used = process.cpuUsage(cpu);
    option.rounds.push((used.user + used.system) / 1000 / Math.ceil(runs / rounds));
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rows = scripts.map(({ name, bytes, rounds: times }) => ({ name, bytes, ms: median(times) }));
const empty = rows.find((row) => row.name === 'empty');
if (!empty) throw new Error('no baseline row');
console.log(`contract check a run (${runs} runs each in ${rounds} alternating rounds, the median round, ${os.cpus().length} cores, node ${process.version}): bundle evaluated in a fresh context + one request checked`);
console.log('| option | bundle bytes | bytes over no check | CPU ms a run | ms over no check | × no check |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(`| ${row.name === 'empty' ? 'no check' : row.name} | ${row.bytes} | ${row.bytes - empty.bytes} | ${row.ms.toFixed(3)} | ${(row.ms - empty.ms).toFixed(3)} | ${(row.ms / empty.ms).toFixed(2)} |`);

// bench/cost: what routing and the response cache save, on a synthetic workload priced with
// Keel's price table. 200 runs mixing task kinds go through the real ModelRouter three ways in one
// go: every call on the large model, routed by task purpose, and routed + cached. The provider is
// synthetic (in-process, token counts per task kind below), so the figures are the workload's and
// the table's, not a provider's bill. Run: npm run bench:cost [-- --runs N --seed S]
import { parseArgs } from 'node:util';
import { cacheablePurposes, effectiveTier } from '../dist/shared/index.js';
import { MemoryResponseCache } from '../dist/llm/response-cache.js';
import { ModelRouter } from '../dist/llm/router.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' }, seed: { type: 'string', default: '7' }, documents: { type: 'string', default: '120' } } });
const runs = Number(values.runs);
const documentCount = Number(values.documents);

/** Typical tokens in and out per task kind (what a prompt and answer of that kind are like). */
const shapes = {
  classification: { weight: 30, input: 400, output: 10 },
  extraction: { weight: 20, input: 800, output: 150 },
  formatting: { weight: 10, input: 300, output: 200 },
  evaluation: { weight: 10, input: 600, output: 50 },
  analysis: { weight: 10, input: 1_500, output: 600 },
  reasoning: { weight: 10, input: 1_200, output: 800 },
  generation: { weight: 10, input: 1_000, output: 1_000 },
};
const planner = { input: 1_000, output: 300 };
const synthesis = { input: 800, output: 200 };

/** A small deterministic PRNG, so the three strategies see the same workload. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** 200 runs: each a planner call, 3-8 tasks of mixed kinds about one document, and a synthesis. */
function workload() {
  const next = random(Number(values.seed));
  const kinds = Object.entries(shapes).flatMap(([kind, shape]) => Array(shape.weight).fill(kind));
  return Array.from({ length: runs }, (_, run) => {
    // Documents repeat the way tickets and invoices do: a few are common, most are rare.
    const document = Math.floor(documentCount * next() ** 2);
    const tasks = Array.from({ length: 3 + Math.floor(next() * 6) }, (_, index) => {
      const purpose = kinds[Math.floor(next() * kinds.length)];
      return { id: `t${index}`, purpose, document };
    });
    return { run, document, tasks };
  });
}

/** Answers with the token counts of the task kind written in the prompt. */
class SyntheticProvider {
  name = 'openai';
  calls = 0;
  async generate(request) {
    this.calls += 1;
    const shape = JSON.parse(request.prompt).shape;
    return { text: `answer to ${request.prompt.length} chars`, model: request.model, usage: { inputTokens: shape.input, outputTokens: Math.min(shape.output, request.maxOutputTokens) } };
  }
}

async function price(strategy) {
  const provider = new SyntheticProvider();
  const cache = strategy === 'routed + cached' ? new MemoryResponseCache({ maxEntries: 100_000, ttlMs: 86_400_000 }) : undefined;
  const router = new ModelRouter({ providers: [provider], ...(cache ? { cache } : {}) });
  let cost = 0;
  let hits = 0;
  let misses = 0;
  let calls = 0;
  const call = async (tier, shape, prompt, cacheable) => {
    calls += 1;
    const answer = await router.generate({ key: 'bench', tier, system: 'bench', prompt: JSON.stringify({ ...prompt, shape }), reservedUsd: 10, cacheable });
    cost += answer.costUsd;
    if (answer.cache === 'hit') hits += 1;
    if (answer.cache === 'miss') misses += 1;
  };
  for (const run of workload()) {
    await call('large', planner, { plan: run.run }, false);
    for (const task of run.tasks) {
      const tier = strategy === 'all large' ? 'large' : effectiveTier(task);
      // The same kind of work on the same document asks the same thing: cacheable when deterministic.
      await call(tier, shapes[task.purpose], { purpose: task.purpose, document: task.document }, strategy === 'routed + cached' && cacheablePurposes.includes(task.purpose));
    }
    await call(strategy === 'all large' ? 'large' : 'medium', synthesis, { synthesis: run.run }, false);
  }
  return { strategy, costPerRun: cost / runs, total: cost, calls, providerCalls: provider.calls, hits, misses };
}

const results = [];
for (const strategy of ['all large', 'routed', 'routed + cached']) results.push(await price(strategy));
const baseline = results[0].costPerRun;
const rows = results.map((result) => [
  result.strategy,
  `$${result.costPerRun.toFixed(5)}`,
  `${(100 * (1 - result.costPerRun / baseline)).toFixed(1)}%`,
  result.hits + result.misses > 0 ? `${((100 * result.hits) / (result.hits + result.misses)).toFixed(1)}%` : '—',
  `${((100 * (result.calls - result.providerCalls)) / result.calls).toFixed(1)}%`,
]);
const header = ['strategy', 'cost/run', 'saved vs all-large', 'cache hit rate (cacheable calls)', 'calls avoided (all calls)'];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
const line = (cells) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
console.log(`bench/cost · ${runs} runs · ${results[0].calls} model calls each way · ${documentCount} documents · seed ${values.seed} · prices: Keel's table (src/llm/pricing.ts)`);
console.log(line(header));
for (const row of rows) console.log(line(row));

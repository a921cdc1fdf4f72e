// A real `keel worker` process with an OpenAI key and a config file, against the loopback server:
// a model that keeps failing opens its breaker and the tier falls back to the next model; the
// second run hits the response cache; `keel status` shows both; the breaker and cache metrics (and
// the alert rules built on them) are exported; and the key appears nowhere: not in the worker's
// debug log, the CLI's output, the result or the exported history.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { plannerSystem, synthesizeSystem } from '../../src/activities/prompts';
import { workerMetrics } from '../../src/activities/metrics';
import type { RunResult } from '../../src/shared';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { freePort, runKeel, startKeel, waitFor } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

const apiKey = 'sk-test-E2E-SECRET-0123456789abcdef';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => fake.close());

test('breaker opens and falls back, the cache answers the second run, status and metrics show it, and the key is never printed', async () => {
  const plan = { tasks: [{ id: 'classify', kind: 'llm', description: 'classify the ticket as bug, question or request', purpose: 'classification' }] };
  fake.respond = (body) => {
    const system = (body.messages as Array<{ content: string }>)[0]!.content;
    if (body.model === 'gpt-4o-mini') return { status: 503, error: { message: 'gpt-4o-mini is overloaded' } };
    if (system === plannerSystem) return { content: JSON.stringify(plan), usage: { prompt_tokens: 300, completion_tokens: 40 } };
    if (system === synthesizeSystem) return { content: 'It is a bug report.', usage: { prompt_tokens: 100, completion_tokens: 6 } };
    return { content: 'bug', usage: { prompt_tokens: 80, completion_tokens: 1 } };
  };
  const home = mkdtempSync(path.join(os.tmpdir(), 'keel-models-'));
  const configFile = path.join(home, 'keel.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      routing: { small: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'openai', model: 'gpt-4.1-mini' }] },
      breaker: { failureThreshold: 1, resetMs: 600_000 },
    }),
  );
  const metricsPort = await freePort();
  const env = {
    TEMPORAL_ADDRESS: testAddress(),
    KEEL_TASK_QUEUE: uniqueName('keel-models'),
    KEEL_HOME: home,
    KEEL_CONFIG: configFile,
    KEEL_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
    KEEL_LOG_LEVEL: 'DEBUG',
    OPENAI_API_KEY: apiKey,
    OPENAI_BASE_URL: fake.baseURL,
  };
  const worker = startKeel(['worker'], env);
  const printed: string[] = [];
  const keel = async (args: string[]) => {
    const outcome = await runKeel(args, env);
    printed.push(outcome.stdout, outcome.stderr);
    return outcome;
  };
  try {
    await waitFor(() => worker.output().includes('model routing:'), 'the worker to start');
    expect(worker.output()).toContain('model routing: small → openai:gpt-4o-mini, openai:gpt-4.1-mini; medium → openai:gpt-4.1-mini; large → openai:gpt-4o');
    expect(worker.output()).toContain(`(openai is the OpenAI-compatible server at ${fake.baseURL}); response cache: in-process`);

    const request = ['run', 'Classify: "the app crashes when I press save"', '--wait', '--json', '--budget', '0.1'];
    const first = await keel([...request, '--id', uniqueName('first')]);
    expect(first.code).toBe(0);
    const firstResult = JSON.parse(first.stdout) as RunResult;
    expect(firstResult).toMatchObject({ status: 'completed', cache: { hits: 0, misses: 1 } });
    expect(firstResult.tasks[0]).toMatchObject({ id: 'classify', status: 'completed', model: 'gpt-4.1-mini' }); // fell back
    expect(firstResult.breakers).toEqual(
      expect.arrayContaining([
        { provider: 'openai', model: 'gpt-4o-mini', state: 'open' },
        { provider: 'openai', model: 'gpt-4.1-mini', state: 'closed' },
      ]),
    );
    const miniCalls = fake.requests.filter((sent) => sent.body.model === 'gpt-4o-mini').length;
    expect(miniCalls).toBe(1); // one failure opened it; afterwards it is skipped without a call

    const secondId = uniqueName('second');
    const second = await keel([...request, '--id', secondId]);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: 'completed', cache: { hits: 1, misses: 0 } });
    expect(fake.requests.filter((sent) => sent.body.model === 'gpt-4o-mini').length).toBe(miniCalls);
    const uncached = await keel([...request, '--id', uniqueName('uncached'), '--no-cache']);
    expect(JSON.parse(uncached.stdout)).toMatchObject({ status: 'completed', cache: { hits: 0, misses: 0 } });

    const status = await keel(['status', secondId]);
    expect(status.stdout).toContain('cache 1 hit / 0 misses');
    expect(status.stdout).toMatch(/Model breakers \(at the last model call\): openai\/gpt-4o-mini open · .*openai\/gpt-4\.1-mini closed/);
    expect(status.stdout).toMatch(/classify\s+llm\s+completed, gpt-4\.1-mini/);

    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
    expect(value(/^keel_model_breaker_state\{[^}]*model="gpt-4o-mini"[^}]*provider="openai"[^}]*\} (\d+)/m)).toBe(2);
    expect(value(/^keel_model_breaker_state\{[^}]*model="gpt-4\.1-mini"[^}]*provider="openai"[^}]*\} (\d+)/m)).toBe(0);
    expect(value(/^keel_cache_hits\{[^}]*\} (\d+)/m)).toBe(1);
    expect(value(/^keel_cache_misses\{[^}]*\} (\d+)/m)).toBe(1);
    // The alert rules on these metrics use only metrics the worker exports.
    const exported = new Set([...text.matchAll(/^([a-z_]+)\{/gm)].map((match) => match[1]!));
    const rules = (parse(readFileSync(path.resolve(__dirname, '../../deploy/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap((group) => group.rules);
    const modelRules = rules.filter((rule) => Object.values(workerMetrics).some((metric) => rule.expr.includes(metric)));
    expect(modelRules.map((rule) => rule.alert)).toEqual(['KeelModelBreakerOpen', 'KeelCacheHitRateLow']);
    for (const rule of modelRules) {
      for (const [metric] of rule.expr.matchAll(/\bkeel_[a-z_]+\b/g)) expect({ metric, exported: exported.has(metric) }).toEqual({ metric, exported: true });
    }

    const exportFile = path.join(home, 'history.json');
    expect((await keel(['export', secondId, '-o', exportFile])).code).toBe(0);
    expect(readFileSync(exportFile, 'utf8')).not.toContain('E2E-SECRET');
    // The key went to the provider (so it was really used) and nowhere else.
    expect(fake.requests.every((sent) => sent.authorization === `Bearer ${apiKey}`)).toBe(true);
    expect(worker.output()).toMatch(/DEBUG|INFO/); // the log really was verbose
    expect(worker.output()).not.toContain('E2E-SECRET');
    expect(printed.join('\n')).not.toContain('E2E-SECRET');
  } finally {
    worker.child.kill('SIGINT');
    await worker.exited;
  }
  expect(worker.output()).not.toContain('E2E-SECRET');
}, 180_000);

test('a worker whose key the provider refuses stops at start, naming the variable and not the key', async () => {
  fake.refuseKey = true;
  try {
    const outcome = await runKeel(['worker'], {
      TEMPORAL_ADDRESS: testAddress(),
      KEEL_TASK_QUEUE: uniqueName('keel-refused'),
      KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-refused-')),
      KEEL_CONFIG: '',
      OPENAI_API_KEY: apiKey,
      OPENAI_BASE_URL: fake.baseURL,
    });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain(`OPENAI_API_KEY was refused by ${fake.baseURL} (HTTP 401: `);
    expect(outcome.stderr).toContain('set a valid key, or unset it to serve scenario runs only');
    expect(outcome.stdout + outcome.stderr).not.toContain('E2E-SECRET');
  } finally {
    fake.refuseKey = false;
  }
}, 60_000);

// A `keel worker` serves Prometheus metrics: Temporal's runtime metrics plus Keel's, and every
// metric deploy/alerts.yml uses is one the worker really exports.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { workerMetrics } from '../../src/activities/metrics';
import { keelMetrics } from '../../src/workflows/metrics';
import { freePort, runKeel, startKeel, waitFor } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

test('the worker exports run, failure, retry, replan, escalation, token and cost metrics that the alert rules use', async () => {
  const metricsPort = await freePort();
  const env = {
    TEMPORAL_ADDRESS: testAddress(),
    KEEL_TASK_QUEUE: uniqueName('keel-metrics'),
    KEEL_HOME: mkdtempSync(path.join(os.tmpdir(), 'keel-metrics-')),
    KEEL_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
  };
  const worker = startKeel(['worker'], env);
  try {
    await waitFor(() => worker.output().includes(`metrics http://127.0.0.1:${metricsPort}/metrics`), 'the worker to start');
    for (const scenario of ['degrade', 'flaky-tools', 'onboarding-replan']) {
      expect((await runKeel(['run', '--scenario', `examples/${scenario}.json`, '--wait', '--json'], env)).code).toBe(0);
    }
    const escalated = uniqueName('metrics-escalation');
    await runKeel(['run', '--scenario', 'examples/escalation-approval.json', '--id', escalated], env);
    for (let tries = 0; tries < 40 && (await runKeel(['approve', escalated], env)).code !== 0; tries++) await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await runKeel(['run', '--scenario', 'examples/escalation-approval.json', '--id', escalated, '--wait', '--json'], env)).code).toBe(0);

    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
    expect(value(/^keel_runs\{[^}]*status="partial"[^}]*\} (\d+)/m)).toBe(1);
    expect(value(/^keel_runs\{[^}]*status="completed"[^}]*\} (\d+)/m)).toBe(3);
    expect(value(/^keel_task_failures\{[^}]*kind="permanent"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^keel_task_failures\{[^}]*kind="semantic"[^}]*\} (\d+)/m)).toBe(1);
    expect(value(/^keel_task_retries\{[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(3); // flaky-tools: 1 + 2 retries
    expect(value(/^keel_replans\{[^}]*\} (\d+)/m)).toBe(1);
    expect(value(/^keel_escalations_started\{[^}]*kind="human_review"[^}]*\} (\d+)/m)).toBe(1);
    expect(value(/^keel_escalations_decided\{[^}]*kind="human_review"[^}]*\} (\d+)/m)).toBe(1);
    expect(value(/^keel_model_tokens\{[^}]*direction="output"[^}]*model="gpt-4o"[^}]*\} (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^keel_model_cost_microusd\{[^}]*model="gpt-4o"[^}]*\} (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^keel_run_duration_count\{[^}]*status="completed"[^}]*\} (\d+)/m)).toBe(3);
    expect(text).toMatch(/^keel_run_duration_bucket\{[^}]*le="3600000"/m);
    expect(text).toMatch(/^temporal_workflow_completed\{/m);

    // Every metric an alert uses is exported (histograms by their _bucket series).
    const exported = new Set([...text.matchAll(/^([a-z_]+)\{/gm)].map((match) => match[1]!));
    const rules = (parse(readFileSync(path.resolve(__dirname, '../../deploy/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string; annotations: { runbook?: string } }> }> }).groups.flatMap((group) => group.rules);
    expect(rules.map((rule) => rule.alert)).toEqual(expect.arrayContaining(['KeelRunSuccessRateLow', 'KeelRunDurationP95High', 'KeelHourlyCostHigh', 'KeelEscalationsWaiting']));
    for (const rule of rules) {
      expect(rule.annotations.runbook?.length).toBeGreaterThan(40);
      const used = [...rule.expr.matchAll(/\b((?:keel|temporal)_[a-z_]+)\b/g)].map((match) => match[1]!);
      expect(used.length).toBeGreaterThan(0);
      // Breaker and cache metrics need a real provider: test/e2e/models.test.ts checks those rules.
      if (used.some((metric) => (Object.values(workerMetrics) as string[]).includes(metric))) continue;
      for (const metric of used) expect({ alert: rule.alert, metric, exported: exported.has(metric) }).toEqual({ alert: rule.alert, metric, exported: true });
    }
    expect(Object.values(keelMetrics).every((name) => text.includes(name))).toBe(true);
  } finally {
    worker.child.kill('SIGINT');
    await worker.exited;
  }
}, 180_000);

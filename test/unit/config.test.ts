// Configuration: the environment and keel.config.json / .yaml, every mistake named with its key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigurationError, loadConfig } from '../../src/config';
import { defaultPrices } from '../../src/llm/pricing';
import { defaultRouting } from '../../src/llm/router';
import { defaultDependencies, describeModelProvider } from '../../src/worker';

const directory = mkdtempSync(path.join(tmpdir(), 'keel-config-'));
function file(name: string, text: string): string {
  const where = path.join(directory, name);
  writeFileSync(where, text);
  return where;
}

test('without a file: the default routing, prices, breaker and an in-process cache', () => {
  const config = loadConfig({ KEEL_CONFIG: '' });
  expect(config.models.routing).toEqual(defaultRouting);
  expect(config.models.prices).toEqual(defaultPrices);
  expect(config.models.breaker).toEqual({ failureThreshold: 5, resetMs: 30_000, halfOpenSuccesses: 2 });
  expect(config.models.cache).toEqual({ enabled: true, ttlMs: 86_400_000, maxEntries: 10_000 });
  expect(describeModelProvider({ ...config, openai: { apiKey: 'sk-test-aaaaaaaa' } })).toBe(
    'model routing: small → openai:gpt-4o-mini; medium → openai:gpt-4.1-mini; large → openai:gpt-4o; response cache: in-process',
  );
});

test('a JSON file overrides routing per tier, prices per model and the breaker; the DSN comes from the environment', () => {
  const where = file(
    'keel.config.json',
    JSON.stringify({
      routing: { small: [{ provider: 'anthropic', model: 'claude-3-5-haiku-latest' }, { provider: 'openai', model: 'llama3.1:8b' }] },
      prices: { 'llama3.1:8b': { inputPerMillion: 0, outputPerMillion: 0 } },
      breaker: { failureThreshold: 3, resetMs: 10_000 },
      cache: { ttlSeconds: 600 },
    }),
  );
  const config = loadConfig({ KEEL_CONFIG: where, KEEL_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', OPENAI_API_KEY: 'sk-test-aaaaaaaa', ANTHROPIC_API_KEY: 'sk-ant-test-bbbbbbbb' });
  expect(config.configFile).toBe(where);
  expect(config.models.routing.small).toEqual([
    { provider: 'anthropic', model: 'claude-3-5-haiku-latest' },
    { provider: 'openai', model: 'llama3.1:8b' },
  ]);
  expect(config.models.routing.large).toEqual(defaultRouting.large);
  expect(config.models.prices['llama3.1:8b']).toEqual({ inputPerMillion: 0, outputPerMillion: 0 });
  expect(config.models.prices['gpt-4o']).toEqual(defaultPrices['gpt-4o']);
  expect(config.models.breaker).toEqual({ failureThreshold: 3, resetMs: 10_000, halfOpenSuccesses: 2 });
  expect(config.models.cache).toEqual({ enabled: true, ttlMs: 600_000, maxEntries: 10_000, databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres' });
  const router = defaultDependencies({ ...config, home: directory }).model!;
  expect(router.chain('small')).toEqual(config.models.routing.small);
  expect(router.ceiling('small')).toEqual({ inputPerMillion: 0.8, outputPerMillion: 4, maxOutputTokens: 4_096 }); // the dearer of the two
  expect(router.cache?.kind).toBe('postgres');
  void router.cache?.close();
});

test('YAML works too', () => {
  const where = file('keel.config.yaml', 'routing:\n  large:\n    - provider: openai\n      model: gpt-4.1\ncache:\n  enabled: false\n');
  const config = loadConfig({ KEEL_CONFIG: where });
  expect(config.models.routing.large).toEqual([{ provider: 'openai', model: 'gpt-4.1' }]);
  expect(config.models.cache.enabled).toBe(false);
  expect(defaultDependencies({ ...config, home: directory, openai: { apiKey: 'sk-test-aaaaaaaa' } }).model!.cache).toBeUndefined();
});

test('every mistake in the file is named with its key, and nothing starts', () => {
  const where = file(
    'bad.json',
    JSON.stringify({ routing: { small: [{ provider: 'openia', model: 'gpt-4o-mini' }], medium: [] }, prices: { x: { inputPerMillion: -1, outputPerMillion: 1 } }, breaker: { failureThreshold: 0 }, caching: true }),
  );
  const error = (() => {
    try {
      loadConfig({ KEEL_CONFIG: where });
    } catch (caught) {
      return caught as Error;
    }
    throw new Error('loadConfig accepted a bad file');
  })();
  expect(error).toBeInstanceOf(ConfigurationError);
  expect(error.message).toContain(`invalid config file ${where}:`);
  expect(error.message).toMatch(/routing\.small\.0\.provider: Invalid option: expected one of "openai"\|"anthropic"/);
  expect(error.message).toContain('routing.medium: a tier needs at least one model');
  expect(error.message).toMatch(/prices\.x\.inputPerMillion: /);
  expect(error.message).toMatch(/breaker\.failureThreshold: /);
  expect(error.message).toMatch(/\(root\): Unrecognized key: "caching"/);
});

test('a missing file, broken JSON and a bad DSN say what to fix', () => {
  expect(() => loadConfig({ KEEL_CONFIG: path.join(directory, 'nope.json') })).toThrow(/cannot read the config file .*nope\.json \(KEEL_CONFIG\)/);
  expect(() => loadConfig({ KEEL_CONFIG: file('broken.json', '{"routing": ') })).toThrow(/the config file .*broken\.json is not valid JSON/);
  expect(() => loadConfig({ KEEL_DATABASE_URL: 'mysql://x' })).toThrow(/KEEL_DATABASE_URL: KEEL_DATABASE_URL must be a postgres:\/\/ URL/);
});

test('routing that needs a provider without a key is refused at worker start, naming the tier and what to do', () => {
  const where = file('anthropic-only.json', JSON.stringify({ routing: { large: [{ provider: 'anthropic', model: 'claude-sonnet-4-0' }] } }));
  const config = loadConfig({ KEEL_CONFIG: where, OPENAI_API_KEY: 'sk-test-aaaaaaaa' });
  expect(() => defaultDependencies({ ...config, home: directory })).toThrow(
    'no configured provider serves tier large: routing names large → anthropic, but the providers with a key are openai: set the missing key or change routing in the config file',
  );
});

test('KEEL_MAX_CACHED_WORKFLOWS: a count of runs, 0 for none; 1 is refused with what to use instead', () => {
  expect(loadConfig({ KEEL_CONFIG: '' }).maxCachedWorkflows).toBeUndefined();
  expect(loadConfig({ KEEL_CONFIG: '', KEEL_MAX_CACHED_WORKFLOWS: '2000' }).maxCachedWorkflows).toBe(2000);
  expect(loadConfig({ KEEL_CONFIG: '', KEEL_MAX_CACHED_WORKFLOWS: '0' }).maxCachedWorkflows).toBe(0);
  expect(() => loadConfig({ KEEL_CONFIG: '', KEEL_MAX_CACHED_WORKFLOWS: '1' })).toThrow(/KEEL_MAX_CACHED_WORKFLOWS: use 0 \(no cache\) or at least 2/);
  expect(() => loadConfig({ KEEL_CONFIG: '', KEEL_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow(/KEEL_MAX_CACHED_WORKFLOWS/);
});

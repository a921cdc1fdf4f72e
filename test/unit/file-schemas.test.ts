// The JSON Schemas of the files users write (schemas/), derived from the zod schemas at build time:
// what the build writes today, and every example and a config checked by a JSON Schema validator
// that is not zod (ajv, draft 2020-12), so the schemas cannot drift from what Keel accepts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ConfigFileSchema, userFileSchemas } from '../../src/config';
import { parseScenario } from '../../src/shared';

const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const schema = (name: string) => JSON.parse(readFileSync(path.join('schemas', name), 'utf8')) as Record<string, unknown>;
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

test('schemas/ holds what the zod schemas give today (npm run build writes them)', () => {
  for (const [name, generated] of Object.entries(userFileSchemas())) expect(schema(name)).toEqual(JSON.parse(JSON.stringify(generated)));
});

test('every example scenario and plan names its schema and passes it; each is one zod accepts too', () => {
  const scenario = ajv.compile(schema('scenario.schema.json'));
  const plan = ajv.compile(schema('plan.schema.json'));
  const scenarios = readdirSync('examples').filter((file) => file.endsWith('.json'));
  const plans = readdirSync('examples/plans').filter((file) => file.endsWith('.json'));
  expect(scenarios.length).toBeGreaterThan(10);
  for (const file of scenarios) {
    const value = json(path.join('examples', file));
    expect(value.$schema).toBe('../schemas/scenario.schema.json');
    expect({ file, valid: scenario(value), errors: scenario.errors ?? null }).toEqual({ file, valid: true, errors: null });
    expect(() => parseScenario(JSON.stringify(value), file)).not.toThrow();
  }
  for (const file of plans) {
    const value = json(path.join('examples/plans', file));
    expect(value.$schema).toBe('../../schemas/plan.schema.json');
    expect({ file, valid: plan(value), errors: plan.errors ?? null }).toEqual({ file, valid: true, errors: null });
  }
});

test('a config file with $schema, routing and MCP servers passes; bad ones fail both the schema and zod', () => {
  const config = ajv.compile(schema('keel.config.schema.json'));
  const good = {
    $schema: './node_modules/keel/schemas/keel.config.schema.json',
    routing: { small: [{ provider: 'openai', model: 'gpt-4.1-mini' }] },
    mcpServers: { files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], approve: ['write_*'] }, remote: { url: 'https://mcp.example.com/mcp', headers: { authorization: 'Bearer ${TOKEN}' } } },
  };
  expect(config(good)).toBe(true);
  expect(ConfigFileSchema.safeParse(good).success).toBe(true);
  for (const bad of [{ routing: { tiny: [] } }, { mcpServers: { files: { command: 'npx', extra: true } } }, { cache: { ttlSeconds: 0 } }]) {
    expect(config(bad)).toBe(false);
    expect(ConfigFileSchema.safeParse(bad).success).toBe(false);
  }
  const scenario = ajv.compile(schema('scenario.schema.json'));
  const misspelt = { ...json('examples/pipeline.json'), reqest: {} };
  expect(scenario(misspelt)).toBe(false);
});

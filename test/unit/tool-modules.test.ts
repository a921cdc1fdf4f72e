// KEEL_TOOLS and the config file's "tools": the worker's own tools from the user's modules; every mistake names the module and the tool.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigurationError, loadConfig } from '../../src/config';
import { defaultDependencies } from '../../src/worker';
import { defineTool, loadToolModules, ToolRegistry } from '../../src/tools';
import { z } from 'zod';

const directory = mkdtempSync(path.join(tmpdir(), 'keel-tools-'));
const zod = JSON.stringify(require.resolve('zod'));
function module(name: string, text: string): string {
  const where = path.join(directory, name);
  writeFileSync(where, text);
  return where;
}
const home = directory;

test('a CommonJS and an ES module add their tools next to the built-in ones, and they run', async () => {
  const cjs = module(
    'lookup.js',
    `const { z } = require(${zod});
     exports.tools = [{ name: 'lookup_customer', description: 'Finds a customer', input: z.object({ id: z.string() }),
       run: async (input, context) => ({ id: input.id, key: context.idempotencyKey }) }];`,
  );
  const refund = module('refund.js', `const { z } = require(${zod}); exports.tools = [{ name: 'issue_refund', description: 'Refunds', input: z.object({ cents: z.number() }), run: async (input) => ({ refunded: input.cents }) }];`);
  const config = loadConfig({ KEEL_TOOLS: `${cjs}, ${refund}`, KEEL_CONFIG: '' });
  expect(config.toolModules).toEqual([cjs, refund]);
  const { tools } = defaultDependencies({ home, toolModules: config.toolModules });
  expect(tools.names).toEqual(['verify_document', 'create_account', 'send_email', 'lookup_customer', 'issue_refund']);
  const lookup = tools.get('lookup_customer')!;
  const signal = new AbortController().signal;
  await expect(lookup.run({ id: 'c1' }, { workflowId: 'w', taskId: 't', idempotencyKey: 'w:t', signal })).resolves.toEqual({ id: 'c1', key: 'w:t' });
  expect(tools.describe(['issue_refund'])[0]).toMatchObject({ name: 'issue_refund', inputSchema: { type: 'object', properties: { cents: { type: 'number' } } } });
});

test("keel.config.json's \"tools\" names modules relative to the file, before KEEL_TOOLS's", () => {
  const project = mkdtempSync(path.join(tmpdir(), 'keel-tools-config-'));
  mkdirSync(path.join(project, 'tools'));
  writeFileSync(path.join(project, 'tools/index.js'), `const { z } = require(${zod}); exports.tools = [{ name: 'shout', description: 'Shouts', input: z.object({ text: z.string() }), run: async (input) => input.text.toUpperCase() }];`);
  writeFileSync(path.join(project, 'keel.config.json'), JSON.stringify({ tools: ['./tools/index.js'] }));
  const extra = module('extra.js', `const { z } = require(${zod}); exports.tools = [{ name: 'whisper', description: 'Whispers', input: z.object({}), run: async () => 'psst' }];`);
  const config = loadConfig({ KEEL_CONFIG: path.join(project, 'keel.config.json'), KEEL_TOOLS: extra });
  expect(config.toolModules).toEqual([path.join(project, 'tools/index.js'), extra]);
  expect(defaultDependencies({ home, toolModules: config.toolModules }).tools.names.slice(-2)).toEqual(['shout', 'whisper']);
  // The same definition given in code too (a test that imports the module the config names) is one tool.
  const [shout] = loadToolModules([path.join(project, 'tools/index.js')]);
  expect(defaultDependencies({ home, toolModules: config.toolModules }, { tools: [shout!] }).tools.names.filter((name) => name === 'shout')).toEqual(['shout']);
  writeFileSync(path.join(project, 'keel.config.json'), JSON.stringify({ tools: [''] }));
  expect(() => loadConfig({ KEEL_CONFIG: path.join(project, 'keel.config.json') })).toThrow(/tools\.0: a tool module path cannot be empty/);
});

test('an ES module loads in a real Node process (require of ESM, Node >= 20.19)', () => {
  const esm = module('vat.mjs', `import { z } from ${zod};\nexport const tools = [{ name: 'vat_rate', description: 'VAT rate of a country', input: z.object({ country: z.string() }), run: async () => 0.2 }];`);
  const loader = JSON.stringify(path.join(__dirname, '../../dist/tools/load.js'));
  const names = execFileSync(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${loader}).loadToolModules([${JSON.stringify(esm)}]).map((tool) => tool.name)))`], { encoding: 'utf8' });
  expect(JSON.parse(names)).toEqual(['vat_rate']);
});

test.each([
  ['a module that is not there', () => path.join(directory, 'missing.js'), /tool modules \(KEEL_TOOLS, or "tools" in the config file\): cannot load .*missing\.js/],
  ['a module that throws', () => module('throws.js', `throw new Error('needs LEDGER_URL');`), /cannot load .*throws\.js: needs LEDGER_URL/],
  ['no tools export', () => module('empty.js', 'exports.helper = 1;'), /empty\.js must export `tools`.*\(it exports: helper\)/],
  ['a tool without run or schema', () => module('bad.js', `exports.tools = [{ name: 'Bad Name', description: '' }];`), /bad\.js tools\[0\] \("Bad Name"\): name must be snake_case.*description must be.*input must be a zod schema.*run must be a function/],
  ['a name the worker already has', () => module('dup.js', `const { z } = require(${zod}); exports.tools = [{ name: 'send_email', description: 'x', input: z.object({}), run: async () => 1 }];`), /tool modules \(KEEL_TOOLS, or "tools" in the config file\): two tools are named "send_email"/],
])('%s stops the worker with the reason', (_name, make, message) => {
  const toolModules = [make()];
  expect(() => defaultDependencies({ home, toolModules })).toThrow(ConfigurationError);
  expect(() => defaultDependencies({ home, toolModules })).toThrow(message);
});

test('a tool declared needsApproval is one the worker reports as asking a human first', () => {
  const registry = new ToolRegistry([
    defineTool({ name: 'refund', description: 'refunds', input: z.object({ cents: z.number() }), needsApproval: true, run: async () => 'ok' }) as never,
    defineTool({ name: 'lookup', description: 'looks up', input: z.object({}), run: async () => 'ok' }) as never,
  ]);
  expect(registry.approvalTools).toEqual(['refund']);
});

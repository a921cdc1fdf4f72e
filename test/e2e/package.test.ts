// Keel as a package, from outside the repository: `npm pack`, a new project elsewhere that installs
// the tarball, compiles (tsc --strict) a consumer importing every entry point, runs a worker of its
// own with KeelPlugin and a tool of its own, starts a run with KeelClient, makes a worker with
// createKeelWorker, and runs a scenario through keel/testing. `dist/` paths are not reachable.
// `keel init` writes a project in which `npm install && npm test` pass and `keel dev` runs its scenario.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, keelBin, waitFor } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

const root = path.resolve(__dirname, '../..');
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
const version = (name: string) => lock.packages[`node_modules/${name}`]!.version;
const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let project: string;
let tarball: string;
beforeAll(() => {
  const packed = mkdtempSync(path.join(os.tmpdir(), 'keel-pack-'));
  // The tests run on a fresh build; --ignore-scripts skips prepack's second one.
  npm(['pack', '--ignore-scripts', '--pack-destination', packed], root);
  tarball = path.join(packed, readdirSync(packed).find((file) => file.endsWith('.tgz'))!);
  project = mkdtempSync(path.join(os.tmpdir(), 'keel-consumer-'));
  cpSync(path.join(root, 'test/fixtures/consumer'), project, { recursive: true });
  // The same versions Keel was tested with, from npm's cache when it has them.
  npm(['install', '--prefer-offline', tarball, `@temporalio/worker@${version('@temporalio/worker')}`, `zod@${version('zod')}`, `typescript@${version('typescript')}`, `@types/node@${version('@types/node')}`], project);
}, 600_000);

test('the tarball holds what users need and nothing else', () => {
  const listing = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], root)) as Array<{ files: Array<{ path: string }>; size: number }>;
  const files = listing[0]!.files.map((file) => file.path);
  expect(files).toEqual(expect.arrayContaining(['bin/keel.js', 'dist/entry/index.js', 'dist/entry/index.d.ts', 'dist/workflows/index.js', 'schemas/keel.config.schema.json', 'README.md']));
  expect(files.filter((file) => /^(test|bench|src|scripts|docs|examples)\//.test(file) || file.endsWith('.map'))).toEqual([]);
});

test('a consumer compiles with tsc --strict against every entry point, and cannot reach dist/', () => {
  const compiled = spawnSync(process.execPath, [path.join(project, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project, encoding: 'utf8' });
  expect(compiled.stdout + compiled.stderr).toBe('');
  expect(compiled.status).toBe(0);
  writeFileSync(path.join(project, 'src/reach.ts'), "import { KeelClient } from 'keel/dist/client';\nexport const reached = KeelClient;\n");
  const reaching = spawnSync(process.execPath, [path.join(project, 'node_modules/typescript/bin/tsc'), '-p', project, '--noEmit'], { cwd: project, encoding: 'utf8' });
  expect(reaching.stdout).toMatch(/Cannot find module 'keel\/dist\/client'/);
  const required = spawnSync(process.execPath, ['-e', "require('keel/dist/client')"], { cwd: project, encoding: 'utf8' });
  expect(required.stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
}, 120_000);

test("the consumer's own worker with KeelPlugin, createKeelWorker, and keel/testing all run its tool", () => {
  const run = spawnSync(process.execPath, [path.join(project, 'dist/main.js')], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, TEMPORAL_CLI_PATH: process.env.KEEL_TEST_TEMPORAL_CLI, TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: uniqueName('keel-consumer'), KEEL_CONFIG: '', KEEL_HOME: path.join(project, '.keel') },
    timeout: 240_000,
  });
  const lines = run.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  expect({ lines, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
    lines: [
      { check: 'entries', workflows: 'function', sameError: true },
      { check: 'plugin', status: 'completed', output: JSON.stringify({ loud: 'FROM THE PLUGIN' }) },
      { check: 'createKeelWorker', status: 'completed', output: JSON.stringify({ loud: 'FROM CREATEKEELWORKER' }) },
      { check: 'runScenario', status: 'completed', output: JSON.stringify({ loud: 'FROM A SCENARIO' }) },
      { check: 'runScenario file', status: 'completed', output: 'Greeted; the tier is gold.', decisions: ['retry'] },
    ],
    stderr: '',
  });
}, 300_000);

test('keel init writes a project where npm install && npm test pass, and keel dev runs its scenario', async () => {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'keel-init-'));
  const created = path.join(parent, 'my-agent');
  const init = spawnSync(process.execPath, [keelBin, 'init', created, '--keel', tarball], { encoding: 'utf8' });
  expect(init.status).toBe(0);
  expect(init.stdout).toMatch(/Next: cd .*my-agent && npm install && npm test/);
  // A directory with files in it is refused, unless --force.
  const again = spawnSync(process.execPath, [keelBin, 'init', created], { encoding: 'utf8' });
  expect({ status: again.status, stderr: again.stderr }).toEqual({ status: 2, stderr: expect.stringContaining('is not empty: keel init writes a new project') });
  expect(spawnSync(process.execPath, [keelBin, 'init', created, '--force', '--keel', tarball], { encoding: 'utf8' }).status).toBe(0);

  npm(['install', '--prefer-offline'], created); // its prepare script compiles
  // As on a developer's machine: no test server named (runScenario starts its own), the project's keel.config.json.
  const { KEEL_CONFIG: _config, KEEL_TEST_TEMPORAL_ADDRESS: _server, ...inherited } = process.env;
  const env = { ...inherited, TEMPORAL_CLI_PATH: process.env.KEEL_TEST_TEMPORAL_CLI };
  const tested = spawnSync('npm', ['test'], { cwd: created, encoding: 'utf8', env, timeout: 240_000 });
  expect({ status: tested.status, output: tested.status === 0 ? '' : tested.stdout + tested.stderr }).toEqual({ status: 0, output: '' });
  expect(tested.stdout).toMatch(/# pass 1/);
  // Quiet, as `keel worker` is by default: no bundler report, no worker or run INFO lines (KEEL_LOG_LEVEL=INFO brings them).
  expect(tested.stdout + tested.stderr).not.toMatch(/\[INFO\]|Worker state changed|webpack .* compiled/);

  // npx keel dev --run scenarios/hello.json, on free ports: the project's own tool answers.
  const dev = spawn('npx', ['keel', 'dev', '--run', 'scenarios/hello.json'], {
    cwd: created,
    env: { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, KEEL_UI_PORT: String(await freePort()) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: npm exec does not pass Ctrl-C on to keel, a terminal sends it to the group
  });
  let output = '';
  dev.stdout!.on('data', (chunk) => (output += chunk));
  dev.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => dev.on('close', resolve));
  try {
    await waitFor(() => /Result · /.test(output) || dev.exitCode !== null, 'keel dev to finish the scenario', 120_000);
    expect(output).toMatch(/tools: .*shout/);
    expect(output).toMatch(/Result · completed/);
    expect(output).toContain('HELLO, TEAM');
  } finally {
    process.kill(-dev.pid!, 'SIGINT');
    await exited;
  }
}, 600_000);

import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cachedCliPath, devServerArguments, findTemporalCli, startDevServer, stuckDatabase, TemporalCliNotFoundError } from '../../src/servers/dev-server';
import { freeLoopbackPort } from '../../src/cli/ports';

function fakeExecutable(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\necho fake\n');
  chmodSync(file, 0o755);
  return file;
}

const scratch = () => mkdtempSync(path.join(os.tmpdir(), 'keel-cli-find-'));

test('TEMPORAL_CLI_PATH wins; a wrong one is an error that names it', async () => {
  const directory = scratch();
  const explicit = fakeExecutable(path.join(directory, 'my-temporal'));
  await expect(findTemporalCli({ explicitPath: explicit, searchPath: '', cacheDirectory: directory })).resolves.toBe(explicit);
  await expect(findTemporalCli({ explicitPath: path.join(directory, 'missing') })).rejects.toThrow(/TEMPORAL_CLI_PATH is .*missing, which is not an executable file/);
});

test('then `temporal` on PATH, then the cache', async () => {
  const directory = scratch();
  const onPath = fakeExecutable(path.join(directory, 'bin', 'temporal'));
  const cached = fakeExecutable(cachedCliPath(path.join(directory, 'cache')));
  await expect(findTemporalCli({ searchPath: path.join(directory, 'bin'), cacheDirectory: path.join(directory, 'cache') })).resolves.toBe(onPath);
  await expect(findTemporalCli({ searchPath: '', cacheDirectory: path.join(directory, 'cache') })).resolves.toBe(cached);
});

test('without a binary and without Go: a clear error that says how to get one', async () => {
  const attempt = findTemporalCli({ searchPath: '', cacheDirectory: scratch(), goFallbacks: [] });
  await expect(attempt).rejects.toBeInstanceOf(TemporalCliNotFoundError);
  await expect(attempt).rejects.toThrow(/Go is not installed to build one: install Go 1\.25\+ .* or install the Temporal CLI v1\.5\.1 and set TEMPORAL_CLI_PATH/);
});

test('a failing Go build reports its output and leaves nothing half-built in the cache', async () => {
  const directory = scratch();
  const go = path.join(directory, 'go');
  writeFileSync(go, '#!/bin/sh\necho "go: module lookup disabled" >&2\nexit 1\n');
  chmodSync(go, 0o755);
  const logs: string[] = [];
  const attempt = findTemporalCli({ searchPath: '', cacheDirectory: path.join(directory, 'cache'), goFallbacks: [go], log: (line) => logs.push(line) });
  await expect(attempt).rejects.toThrow(/go install exited 1[\s\S]*module lookup disabled/);
  expect(logs[0]).toMatch(/building the Temporal CLI v1\.5\.1 .*takes several minutes/);
  await expect(findTemporalCli({ searchPath: '', cacheDirectory: path.join(directory, 'cache'), goFallbacks: [] })).rejects.toThrow(/Go is not installed/);
});

test('the dev server keeps history in a SQLite file and registers KeelStatus', () => {
  const args = devServerArguments({ databaseFile: '.keel/temporal.db', port: 7233, uiPort: 8233, namespace: 'default' });
  expect(args.join(' ')).toContain('server start-dev --db-filename .keel/temporal.db --port 7233 --ui-port 8233');
  expect(args.join(' ')).toContain('--search-attribute KeelStatus=Keyword');
});

test("the dev server's SQLite file runs with write-ahead logging, unless told otherwise", () => {
  const base = { databaseFile: '.keel/temporal.db', port: 7233, uiPort: 8233, namespace: 'default' };
  expect(devServerArguments(base).join(' ')).toContain('--sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal');
  expect(devServerArguments({ ...base, sqlitePragmas: [] })).not.toContain('--sqlite-pragma');
});

test('free ports for servers come from below the ephemeral range, so no outgoing connection can take one before a restart', async () => {
  const { ephemeralRange, freeLoopbackPort } = await import('../../src/cli/ports');
  const directory = scratch();
  writeFileSync(path.join(directory, 'range'), '40000\t50000\n');
  expect(ephemeralRange(path.join(directory, 'range'))).toEqual([40000, 50000]);
  expect(ephemeralRange(path.join(directory, 'missing'))).toEqual([32768, 60999]);
  const [low] = ephemeralRange();
  const ports = await Promise.all(Array.from({ length: 20 }, () => freeLoopbackPort()));
  for (const port of ports) {
    expect(port).toBeGreaterThanOrEqual(10_000);
    expect(port).toBeLessThan(low);
  }
});

/**
 * A stand-in for `temporal server start-dev`: it listens on --port and, the first time it runs on a
 * database file, prints what the real server prints once its SQLite connection is stuck.
 */
function fakeStuckServer(directory: string, stuckLines: number): string {
  const file = path.join(directory, 'temporal');
  writeFileSync(
    file,
    `#!/usr/bin/env node
const { existsSync, writeFileSync } = require('node:fs');
const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1]);
const marker = args[args.indexOf('--db-filename') + 1] + '.launched';
const first = !existsSync(marker);
writeFileSync(marker, String(process.pid));
require('node:net').createServer((socket) => socket.end()).listen(port, '127.0.0.1', () => {
  if (!first) return;
  let printed = 0;
  const timer = setInterval(() => {
    console.error('time=x level=ERROR msg="Operation failed with internal error." error="GetCurrentExecution operation failed. Error: interrupted (9)"');
    if (++printed >= ${stuckLines}) clearInterval(timer);
  }, 20);
});
process.on('SIGTERM', () => process.exit(0));
`,
  );
  chmodSync(file, 0o755);
  return file;
}

test('a dev server whose database is stuck ("interrupted (9)" on every query) is restarted on the same file and port; a few such lines are not enough', async () => {
  const directory = scratch();
  const logged: string[] = [];
  const server = await startDevServer({ binary: fakeStuckServer(directory, stuckDatabase.lines + 5), databaseFile: path.join(directory, 'temporal.db'), port: await freeLoopbackPort(), uiPort: await freeLoopbackPort(), log: (line) => logged.push(line) });
  const first = server.process;
  try {
    const deadline = Date.now() + 10_000;
    while (server.restarts === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.restarts).toBe(1);
    expect(first.signalCode).toBe('SIGKILL');
    expect(server.process.pid).not.toBe(first.pid);
    expect(logged).toEqual([expect.stringMatching(/database stopped answering \("interrupted \(9\)" on every query\); restarting the server on temporal.db/), `the Temporal dev server is back on ${server.address}`]);
  } finally {
    await server.stop();
  }
  expect(server.process.exitCode ?? server.process.signalCode).not.toBeNull();

  const calm = scratch();
  const quiet = await startDevServer({ binary: fakeStuckServer(calm, 5), databaseFile: path.join(calm, 'temporal.db'), port: await freeLoopbackPort(), uiPort: await freeLoopbackPort() });
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(quiet.restarts).toBe(0);
  } finally {
    await quiet.stop();
  }
}, 30_000);

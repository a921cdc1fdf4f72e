// Finds or builds the `temporal` CLI and runs the local dev server (SQLite file, Web UI).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const temporalCliVersion = 'v1.5.1';
export const temporalCliModule = `github.com/temporalio/cli/cmd/temporal@${temporalCliVersion}`;

/** Search attributes the dev server registers, with their types. */
export const devSearchAttributes = { KeelStatus: 'Keyword' } as const;

export class TemporalCliNotFoundError extends Error {
  override readonly name = 'TemporalCliNotFoundError';
}

export interface FindOptions {
  /** $TEMPORAL_CLI_PATH: used as is when set. */
  explicitPath?: string;
  /** Where a built binary is kept; default $XDG_CACHE_HOME/keel or ~/.cache/keel. */
  cacheDirectory?: string;
  /** The PATH to search; default $PATH. */
  searchPath?: string;
  /** Where to look for `go` when it is not on PATH. */
  goFallbacks?: string[];
  log?: (line: string) => void;
}

export function cachedCliPath(cacheDirectory = defaultCacheDirectory()): string {
  return path.join(cacheDirectory, `temporal-${temporalCliVersion}`, 'temporal');
}

/** $TEMPORAL_CLI_PATH, then `temporal` on PATH, then the cache; else builds it with Go and caches it. */
export async function findTemporalCli(options: FindOptions = {}): Promise<string> {
  const log = options.log ?? (() => undefined);
  if (options.explicitPath) {
    if (!isExecutable(options.explicitPath)) {
      throw new TemporalCliNotFoundError(`TEMPORAL_CLI_PATH is ${options.explicitPath}, which is not an executable file: fix the path or unset it`);
    }
    return options.explicitPath;
  }
  const searchPath = options.searchPath ?? process.env.PATH ?? '';
  const onPath = findOnPath('temporal', searchPath);
  if (onPath) return onPath;
  const cached = cachedCliPath(options.cacheDirectory);
  if (isExecutable(cached)) return cached;
  return buildTemporalCli(findGo(searchPath, options.goFallbacks), cached, log);
}

/** `go` on the search path, else at one of the usual install places. */
export function findGo(searchPath = process.env.PATH ?? '', fallbacks = ['/usr/local/go/bin/go']): string | undefined {
  return findOnPath('go', searchPath) ?? fallbacks.find(isExecutable);
}

async function buildTemporalCli(go: string | undefined, target: string, log: (line: string) => void): Promise<string> {
  if (!go) {
    throw new TemporalCliNotFoundError(
      'no `temporal` CLI found (TEMPORAL_CLI_PATH, PATH, cache) and Go is not installed to build one: ' +
        `install Go 1.25+ and run again, or install the Temporal CLI ${temporalCliVersion} and set TEMPORAL_CLI_PATH to it`,
    );
  }
  const staging = `${path.dirname(target)}.building-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  log(`building the Temporal CLI ${temporalCliVersion} with \`go install ${temporalCliModule}\` (first time only; takes several minutes)`);
  const started = Date.now();
  const child = spawn(go, ['install', '-v', temporalCliModule], {
    env: { ...process.env, GOBIN: staging, CGO_ENABLED: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let packages = 0;
  const tail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    if (line.startsWith('go: downloading')) return;
    packages += 1;
    if (packages % 100 === 0) log(`  … ${packages} packages compiled (${Math.round((Date.now() - started) / 1000)} s)`);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new TemporalCliNotFoundError(`building the Temporal CLI failed (go install exited ${code}):\n${tail.join('\n')}`);
  }
  if (isExecutable(target)) {
    rmSync(staging, { recursive: true, force: true }); // another process finished first
  } else {
    rmSync(path.dirname(target), { recursive: true, force: true });
    renameSync(staging, path.dirname(target));
  }
  log(`built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
  return target;
}

export interface DevServerOptions {
  binary: string;
  /** SQLite file that keeps runs across restarts. */
  databaseFile: string;
  port?: number;
  uiPort?: number;
  namespace?: string;
  /** The Web UI decodes encrypted payloads through this codec server. */
  codecEndpoint?: string;
  /** SQLite pragmas for the database file, as `name=value` (default: devSqlitePragmas). */
  sqlitePragmas?: readonly string[];
  /** Says when the server is restarted, and why. */
  log?: (line: string) => void;
  /** The server's process does not keep this one alive (a library's server, stopped at exit). */
  unref?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  /** The server process now (a new one after a restart). */
  readonly process: ChildProcess;
  /** How many times the server was restarted because its database was stuck. */
  readonly restarts: number;
  stop(): Promise<void>;
}

/**
 * Dynamic config Keel's dev servers run with (tests start theirs with the same). Priorities are
 * ordered within a task queue partition, so one partition makes them exact on a single server.
 * Eager activity execution hands an activity to the worker that scheduled it in the reply to its
 * workflow task, skipping a matching round trip: Keel's p50 run latency −10 to −23 % in bench/run.mjs.
 */
export const devDynamicConfig = [
  'matching.useNewMatcher=true',
  'matching.numTaskqueueReadPartitions=1',
  'matching.numTaskqueueWritePartitions=1',
  'system.enableActivityEagerExecution=true',
];

/**
 * SQLite pragmas for the dev server's file. SQLite's defaults (a rollback journal, a sync on every
 * commit) make each of the server's writes wait for the disk; write-ahead logging with NORMAL sync
 * still survives a killed server process (the chaos suite kills one and restarts it on the same
 * file), and only risks the last commits if the machine itself loses power. Measured in
 * bench/run.mjs (tuning): see README, "Benchmarks".
 */
export const devSqlitePragmas = ['journal_mode=wal', 'synchronous=normal'] as const;

/** Arguments for `temporal server start-dev` that Keel relies on. */
export function devServerArguments(
  options: Required<Pick<DevServerOptions, 'databaseFile' | 'port' | 'uiPort' | 'namespace'>> & Pick<DevServerOptions, 'sqlitePragmas'>,
): string[] {
  return [
    'server', 'start-dev',
    '--db-filename', options.databaseFile,
    '--port', String(options.port),
    '--ui-port', String(options.uiPort),
    '--namespace', options.namespace,
    '--ip', '127.0.0.1',
    '--log-level', 'warn',
    ...(options.sqlitePragmas ?? devSqlitePragmas).flatMap((pragma) => ['--sqlite-pragma', pragma]),
    // Task queue priorities (webhooks' X-Keel-Priority) need the new matcher on this server version.
    ...devDynamicConfig.flatMap((value) => ['--dynamic-config-value', value]),
    ...Object.entries(devSearchAttributes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
}

/**
 * What the dev server prints once its SQLite connection is stuck: after a query is interrupted at
 * the wrong moment, every later one fails with "interrupted (9)" until the process restarts (a bug
 * of modernc.org/sqlite before 1.44, which the CLI v1.5.1 is built with). A healthy server prints
 * none; this many within the window means stuck.
 */
export const stuckDatabase = { pattern: /interrupted \(9\)/, lines: 20, withinMs: 5_000 } as const;

/**
 * Starts the dev server and keeps it answering: when its output shows the stuck database above, it
 * is killed and started again on the same file and ports, so runs go on where they were (clients
 * and workers retry through the gap). `stop()` ends that.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const address = `127.0.0.1:${port}`;
  if (await isListening('127.0.0.1', port)) {
    throw new Error(`port ${port} is already in use: is another \`keel dev\` or Temporal server running? Stop it, or point TEMPORAL_ADDRESS at it and run \`keel worker\``);
  }
  mkdirSync(path.dirname(options.databaseFile), { recursive: true });
  const args = [
    ...devServerArguments({ databaseFile: options.databaseFile, port, uiPort, namespace: options.namespace ?? 'default', sqlitePragmas: options.sqlitePragmas }),
    ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
  ];
  let stopping = false;
  let restarting: Promise<void> | undefined;
  let restarts = 0;
  const stuckLines: number[] = [];
  const watch = (line: string): void => {
    if (stopping || restarting || !stuckDatabase.pattern.test(line)) return;
    const now = Date.now();
    stuckLines.push(now);
    while (stuckLines[0]! < now - stuckDatabase.withinMs) stuckLines.shift();
    if (stuckLines.length < stuckDatabase.lines) return;
    stuckLines.length = 0;
    restarting = restart().finally(() => (restarting = undefined));
  };
  let child: ChildProcess;
  const restart = async (): Promise<void> => {
    options.log?.(`the Temporal dev server's database stopped answering ("interrupted (9)" on every query); restarting the server on ${path.basename(options.databaseFile)}`);
    child.kill('SIGKILL');
    await exitOf(child);
    try {
      child = await launch(options.binary, args, port, watch, options.unref === true);
      restarts += 1;
      options.log?.(`the Temporal dev server is back on ${address}`);
    } catch (error) {
      options.log?.(`the Temporal dev server did not come back: ${(error as Error).message}`);
    }
  };
  child = await launch(options.binary, args, port, watch, options.unref === true);
  return {
    address,
    uiUrl: `http://localhost:${uiPort}`,
    get process() {
      return child;
    },
    get restarts() {
      return restarts;
    },
    async stop() {
      stopping = true;
      await restarting;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitOf(child);
      clearTimeout(timeout);
    },
  };
}

/** Spawns the server and waits until it listens; its output goes to `watch` (the last 50 lines are kept for the error). */
async function launch(binary: string, args: string[], port: number, watch: (line: string) => void, unref: boolean): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      if (output.length > 50) output.shift();
      watch(line);
    });
  }
  if (unref) {
    child.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  }
  const deadline = Date.now() + 60_000;
  while (!(await isListening('127.0.0.1', port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the Temporal dev server did not start:\n${output.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return child;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** $XDG_CACHE_HOME/keel or ~/.cache/keel: where built binaries are kept. */
export function defaultCacheDirectory(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'keel');
}

function findOnPath(name: string, searchPath: string): string | undefined {
  return searchPath
    .split(path.delimiter)
    .filter(Boolean)
    .map((directory) => path.join(directory, name))
    .find(isExecutable);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

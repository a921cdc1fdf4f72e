// Temporal on PostgreSQL, for scale: builds `temporal-server` and `temporal-sql-tool` from the
// go.temporal.io/server module at the version the CLI bundles, sets up both schemas in a local
// PostgreSQL, and starts the server on loopback ports. Keel runs against it unchanged.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { defaultCacheDirectory, devDynamicConfig, devSearchAttributes, findGo, isListening } from './dev-server';

const run = promisify(execFile);

/** The server the Temporal CLI v1.5.1 bundles (its go.mod has no replace directives, so `go install` works). */
export const temporalServerVersion = 'v1.29.1';
const serverModule = 'go.temporal.io/server';

export interface ServerTools {
  server: string;
  sqlTool: string;
  /** The module's schema/postgresql/v12 directory. */
  schemaDirectory: string;
}

function cacheDirectory(): string {
  return path.join(defaultCacheDirectory(), `temporal-server-${temporalServerVersion}`);
}

function goBinary(): string {
  const go = findGo();
  if (!go) throw new Error('Go is needed to build temporal-server: install Go 1.25+ (the Go module proxy must be reachable)');
  return go;
}

/** The cached binaries, or builds them once (about 2-3 minutes; more on a cold module cache). */
export async function findServerTools(log: (line: string) => void = () => undefined): Promise<ServerTools> {
  const directory = cacheDirectory();
  const go = goBinary();
  const server = path.join(directory, 'temporal-server');
  const sqlTool = path.join(directory, 'temporal-sql-tool');
  if (!existsSync(server) || !existsSync(sqlTool)) {
    const staging = `${directory}.building-${process.pid}`;
    mkdirSync(staging, { recursive: true });
    log(`building temporal-server and temporal-sql-tool ${temporalServerVersion} with go install (first time only)`);
    const started = Date.now();
    const env = { ...process.env, GOBIN: staging, CGO_ENABLED: '0' };
    await run(go, ['install', `${serverModule}/cmd/server@${temporalServerVersion}`, `${serverModule}/cmd/tools/sql@${temporalServerVersion}`], { env, maxBuffer: 64 * 1_048_576 });
    mkdirSync(directory, { recursive: true });
    renameSync(path.join(staging, 'server'), server);
    renameSync(path.join(staging, 'sql'), sqlTool);
    rmSync(staging, { recursive: true, force: true });
    log(`built them in ${Math.round((Date.now() - started) / 1000)} s: ${directory}`);
  }
  const { stdout } = await run(go, ['env', 'GOMODCACHE']);
  const schemaDirectory = path.join(stdout.trim(), `${serverModule}@${temporalServerVersion}`, 'schema', 'postgresql', 'v12');
  // `go install` fills the module cache; a cache cleaned since needs the module again.
  if (!existsSync(schemaDirectory)) await run(go, ['mod', 'download', `${serverModule}@${temporalServerVersion}`], { env: { ...process.env, GOFLAGS: '-mod=mod' }, cwd: os.tmpdir() });
  return { server, sqlTool, schemaDirectory };
}

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** Databases for history and visibility (created when missing). */
  database: string;
  visibilityDatabase: string;
}

/** Creates both databases if needed and brings their schemas up to this server version. */
export async function setupSchemas(tools: ServerTools, target: PostgresTarget): Promise<void> {
  for (const [database, schema] of [
    [target.database, 'temporal'],
    [target.visibilityDatabase, 'visibility'],
  ] as const) {
    const base = ['--plugin', 'postgres12', '--ep', target.host, '-p', String(target.port), '-u', target.user, ...(target.password ? ['--pw', target.password] : []), '--db', database];
    await run(tools.sqlTool, [...base, 'create-database']).catch((error: { stderr?: string; message: string }) => {
      if (!/already exists/.test(`${error.stderr ?? ''}${error.message}`)) throw error;
    });
    await run(tools.sqlTool, [...base, 'setup-schema', '-v', '0.0']).catch((error: { stderr?: string; message: string }) => {
      if (!/already exists|schema_version/.test(`${error.stderr ?? ''}${error.message}`)) throw error;
    });
    await run(tools.sqlTool, [...base, 'update-schema', '-d', path.join(tools.schemaDirectory, schema, 'versioned')]);
  }
}

export interface PostgresServer {
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface StartOptions {
  tools: ServerTools;
  target: PostgresTarget;
  /** Frontend gRPC port; history, matching, worker (and internal frontend) and membership ports follow it. */
  port: number;
  /** The `temporal` CLI, to create the namespace and search attribute. */
  cli: string;
  directory: string;
  log?: (line: string) => void;
  /** Mutual TLS on the frontend: the server's certificate, the CA its clients' certificates must chain to, and a client certificate for its own services and the CLI. */
  mtls?: MutualTls;
  /** Temporal's default JWT authorizer and claim mapper: keys from this JWKS URL; the CLI registers the namespace with an admin token. */
  jwt?: { jwksUrl: string; adminToken: string };
}

/** PEM files for a frontend that requires client certificates. */
export interface MutualTls {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** The name in the server's certificate that clients check. */
  serverName: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** The `temporal` CLI's flags for a frontend with mutual TLS, or with JWT authorization (a token, no TLS). */
function cliAuth(options: Pick<StartOptions, 'mtls' | 'jwt'>): string[] {
  const { mtls, jwt } = options;
  if (jwt) return ['--api-key', jwt.adminToken, '--tls=false'];
  return mtls ? ['--tls-cert-path', mtls.clientCertFile, '--tls-key-path', mtls.clientKeyFile, '--tls-ca-path', mtls.caFile, '--tls-server-name', mtls.serverName] : [];
}

function authorizationSection(jwt: StartOptions['jwt']): string {
  if (!jwt) return '';
  return `  authorization:
    jwtKeyProvider:
      keySourceURIs: ["${jwt.jwksUrl}"]
      refreshInterval: 1m
    permissionsClaimName: permissions
    authorizer: default
    claimMapper: default
`;
}

function tlsSection(mtls: MutualTls | undefined): string {
  if (!mtls) return '';
  const client = `        serverName: "${mtls.serverName}"
        rootCaFiles: ["${mtls.caFile}"]`;
  return `  tls:
    frontend:
      server:
        certFile: "${mtls.serverCertFile}"
        keyFile: "${mtls.serverKeyFile}"
        requireClientAuth: true
        clientCaFiles: ["${mtls.caFile}"]
      client:
${client}
    systemWorker:
      certFile: "${mtls.clientCertFile}"
      keyFile: "${mtls.clientKeyFile}"
      client:
${client}
`;
}

/** Starts temporal-server on loopback, with the `default` namespace and KeelStatus registered. */
export async function startPostgresServer(options: StartOptions): Promise<PostgresServer> {
  const { port, target } = options;
  const configDirectory = path.join(options.directory, 'config');
  mkdirSync(path.join(configDirectory, 'dynamicconfig'), { recursive: true });
  const dynamicConfig = path.join(configDirectory, 'dynamicconfig', 'keel.yaml');
  writeFileSync(dynamicConfig, devDynamicConfig.map((entry) => {
    const [key, value] = entry.split('=');
    return `${key}:\n  - value: ${value}\n`;
  }).join(''));
  const datastore = (database: string, maxConns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: "${database}"
        connectAddr: "${target.host}:${target.port}"
        connectProtocol: "tcp"
        user: "${target.user}"
        password: "${target.password ?? ''}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (offset: number) => `    rpc:
      grpcPort: ${port + offset}
      membershipPort: ${port + 100 + offset}
      bindOnLocalHost: true`;
  writeFileSync(
    path.join(configDirectory, 'development.yaml'),
    `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
${datastore(target.database, 20)}
    visibility:
${datastore(target.visibilityDatabase, 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
${tlsSection(options.mtls)}${authorizationSection(options.jwt)}services:
  frontend:
${service(0)}
  history:
${service(1)}
  matching:
${service(2)}
  worker:
${service(3)}
${options.jwt ? `  internal-frontend:\n${service(4)}\n` : ''}clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${port}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "${dynamicConfig}"
  pollInterval: "10s"
`,
  );
  // With an authorizer, the server's own worker service calls an internal frontend, which authorizes nothing.
  const services = ['frontend', 'history', 'matching', 'worker', ...(options.jwt ? ['internal-frontend'] : [])].flatMap((name) => ['--service', name]);
  const child = spawn(options.tools.server, ['--root', options.directory, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start', ...services], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  // The frontend answers once every service has joined; then register what Keel needs.
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal-server exited (${child.exitCode}):\n${output.join('').slice(-3_000)}`);
    if (await isListening('127.0.0.1', port)) {
      const created = await run(options.cli, ['operator', 'namespace', 'create', '--address', address, ...cliAuth(options), '--namespace', 'default', '--retention', '24h']).then(
        () => true,
        (error: { stderr?: string }) => /already/i.test(error.stderr ?? ''),
      );
      if (created) break;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`temporal-server did not come up on ${address} in 90 s:\n${output.join('').slice(-3_000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  for (const [name, type] of Object.entries(devSearchAttributes)) {
    await run(options.cli, ['operator', 'search-attribute', 'create', '--address', address, ...cliAuth(options), '--namespace', 'default', '--name', name, '--type', type]).catch(
      (error: { stderr?: string }) => {
        if (!/already/i.test(error.stderr ?? '')) throw error;
      },
    );
  }
  options.log?.(`temporal-server ${temporalServerVersion} on PostgreSQL ${target.host}:${target.port}/${target.database} at ${address}`);
  return { address, process: child, stop };
}

/**
 * A frontend port whose service and membership neighbours (+1..+3, +100..+103) are free. Below
 * 32,000: the membership table stores ports as smallint. (+4 and +104: the internal frontend, when authorization is on.)
 */
export async function freeServerPort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 11_000);
    const neighbours = [0, 1, 2, 3, 4, 100, 101, 102, 103, 104].map((offset) => port + offset);
    if (!(await Promise.all(neighbours.map((neighbour) => isListening('127.0.0.1', neighbour)))).some(Boolean)) return port;
  }
  throw new Error('found no free ports for temporal-server between 20000 and 31103');
}


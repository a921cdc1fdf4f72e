// docker-compose.yml is for users (no Docker engine here): check its services and their wiring.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';
import { devDynamicConfig, devSearchAttributes } from '../../src/servers/dev-server';

const root = path.resolve(__dirname, '../..');
interface Service {
  image?: string;
  build?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  deploy?: { replicas?: number };
}
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const { services } = compose;

test('it has PostgreSQL, Temporal, the Web UI, a setup step and the Keel workers', () => {
  expect(Object.keys(services).sort()).toEqual(['keel-worker', 'postgresql', 'temporal', 'temporal-setup', 'temporal-ui']);
});

test('Temporal persists to the PostgreSQL service with matching credentials', () => {
  const temporal = services.temporal!;
  const postgresql = services.postgresql!;
  expect(temporal.image).toMatch(/^temporalio\/auto-setup:1\.29\./);
  expect(temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
  expect(temporal.environment!.POSTGRES_USER).toBe(postgresql.environment!.POSTGRES_USER);
  expect(temporal.environment!.POSTGRES_PWD).toBe(postgresql.environment!.POSTGRES_PASSWORD);
  expect(temporal.depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
});

test("Temporal runs with the dynamic config Keel's dev servers use (eager activities, priorities)", () => {
  const temporal = services.temporal!;
  const mount = temporal.volumes!.map((volume) => volume.split(':')).find(([, target]) => target === `/etc/temporal/${temporal.environment!.DYNAMIC_CONFIG_FILE_PATH}`);
  expect(mount).toBeDefined();
  const file = parse(readFileSync(path.join(root, mount![0]!), 'utf8')) as Record<string, Array<{ value: unknown }>>;
  const asDevFlags = Object.entries(file).map(([key, [entry]]) => `${key}=${String(entry!.value)}`);
  expect(asDevFlags.sort()).toEqual([...devDynamicConfig].sort());
});

test('the Web UI and the workers point at the Temporal frontend', () => {
  expect(services['temporal-ui']!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
  expect(services['temporal-ui']!.ports).toContain('8080:8080');
  const worker = services['keel-worker']!;
  expect(worker.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
  expect(worker.depends_on).toMatchObject({ temporal: { condition: 'service_healthy' }, 'temporal-setup': { condition: 'service_completed_successfully' } });
});

test('two Keel workers, built from this repository, run `keel worker` with a configuration Keel accepts', () => {
  const worker = services['keel-worker']!;
  expect(worker.deploy?.replicas).toBe(2);
  expect(worker.build).toBe('.');
  expect(worker.command).toEqual(['worker']);
  // Compose fills ${VAR:-default} from the host; here the host has no keys.
  const environment = Object.fromEntries(Object.entries(worker.environment!).map(([name, value]) => [name, value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
  const config = loadConfig(environment);
  expect(config).toMatchObject({ temporalAddress: 'temporal:7233', namespace: 'default', taskQueue: 'keel' });
  expect(config.openai).toBeUndefined();
  // Every worker shares one response cache in the compose PostgreSQL, with its credentials.
  const { POSTGRES_USER: user, POSTGRES_PASSWORD: password } = services.postgresql!.environment!;
  expect(config.models.cache.databaseUrl).toBe(`postgres://${user}:${password}@postgresql:5432/postgres`);
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/keel.js"\]/);
  expect(dockerfile).toMatch(/npm run build/);
});

test('the setup step registers every search attribute the dev server registers', () => {
  const setup = services['temporal-setup']!;
  const script = (setup.command ?? []).join(' ');
  for (const [name, type] of Object.entries(devSearchAttributes)) {
    expect(script).toContain(`--name ${name} --type ${type}`);
  }
  expect(setup.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
});

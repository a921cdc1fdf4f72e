// Where large values live instead of workflow history (Temporal refuses payloads over 2 MB and
// warns past 512 KB). The filesystem by default (one machine); PostgreSQL when workers share one.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Pool } from 'pg';
import { isBlobRef, type BlobRef, type RunResult } from '../shared';

export interface BlobStore {
  readonly kind: string;
  put(id: string, json: string): Promise<void>;
  get(id: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export const defaultBlobThresholdBytes = 256 * 1_024;

export class FileBlobStore implements BlobStore {
  readonly kind = 'file';
  constructor(private readonly directory: string) {}

  async put(id: string, json: string): Promise<void> {
    mkdirSync(this.directory, { recursive: true });
    const target = path.join(this.directory, `${id}.json`);
    if (existsSync(target)) return;
    // Content-addressed: calls in flight at once may write the same id, so each writes its own
    // partial file, and the rename, atomic, leaves one whole file whichever comes last.
    const partial = `${target}.${process.pid}.${randomUUID()}.partial`;
    await writeFile(partial, json);
    await rename(partial, target); // readers never see half a file
  }

  async get(id: string): Promise<string | undefined> {
    return readFile(path.join(this.directory, `${id}.json`), 'utf8').catch(() => undefined);
  }

  async close(): Promise<void> {}
}

export class PostgresBlobStore implements BlobStore {
  readonly kind = 'postgres';
  private readonly pool: Pool;
  private ready: Promise<unknown> | undefined;
  constructor(databaseUrl: string) {
    this.pool = new Pool({ connectionString: databaseUrl, max: 4 });
    this.pool.on('error', () => undefined);
  }

  private prepare(): Promise<unknown> {
    this.ready ??= this.pool.query('CREATE TABLE IF NOT EXISTS keel_blobs (id text PRIMARY KEY, value text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
    return this.ready;
  }

  async put(id: string, json: string): Promise<void> {
    await this.prepare();
    await this.pool.query('INSERT INTO keel_blobs (id, value) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, json]);
  }

  async get(id: string): Promise<string | undefined> {
    await this.prepare();
    return (await this.pool.query<{ value: string }>('SELECT value FROM keel_blobs WHERE id = $1', [id])).rows[0]?.value;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The value itself when small; a reference to it, stored, when its JSON is over the threshold. */
export async function offloadIfLarge(value: unknown, store: BlobStore, thresholdBytes: number): Promise<unknown> {
  if (value === undefined) return value;
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json);
  if (bytes <= thresholdBytes) return value;
  return storeBlob(value, store, undefined, json);
}

/** Stores the value, whatever its size, and returns the reference to it; `preview` replaces its first characters. */
export async function storeBlob(value: unknown, store: BlobStore, preview?: string, json = JSON.stringify(value)): Promise<BlobRef> {
  const id = createHash('sha256').update(json).digest('hex');
  await store.put(id, json);
  return {
    $keelBlob: id,
    bytes: Buffer.byteLength(json),
    preview: preview ?? json.slice(0, 200),
    ...(typeof value === 'object' && value !== null && !Array.isArray(value) ? { fields: Object.keys(value) } : {}),
  };
}

/** The value with every reference in it replaced by what it points to. */
export async function resolveRefs<T>(value: T, store: BlobStore | undefined): Promise<T> {
  if (isBlobRef(value)) {
    if (!store) throw new Error(`a value of ${value.bytes} bytes is stored outside history (${value.$keelBlob}), but no blob store is configured here`);
    const json = await store.get(value.$keelBlob);
    if (json === undefined) throw new Error(`stored value ${value.$keelBlob} is missing from the ${store.kind} blob store: was it written on another machine? Use KEEL_DATABASE_URL so workers share one`);
    return JSON.parse(json) as T;
  }
  if (Array.isArray(value)) return (await Promise.all(value.map((item) => resolveRefs(item, store)))) as T;
  if (value !== null && typeof value === 'object') {
    const entries = await Promise.all(Object.entries(value).map(async ([key, item]) => [key, await resolveRefs(item, store)] as const));
    return Object.fromEntries(entries) as T;
  }
  return value;
}

/** Postgres when a database is configured, else files under KEEL_HOME/blobs. */
export function blobStoreFor(config: { home: string; databaseUrl?: string | undefined }): BlobStore {
  return config.databaseUrl ? new PostgresBlobStore(config.databaseUrl) : new FileBlobStore(path.join(config.home, 'blobs'));
}

/** A result whose final answer is stored outside history, with the answer read back; when it cannot be read, the reference stays and `reason` says why. */
export async function withStoredOutput(result: RunResult, store: BlobStore): Promise<RunResult> {
  if (!result.outputRef) return result;
  try {
    const { outputRef, ...rest } = result;
    const output = await resolveRefs(outputRef, store);
    // A synthesis stored text; a task named by outputFrom may have stored a structure.
    return { ...rest, output: typeof output === 'string' ? output : JSON.stringify(output) };
  } catch (error) {
    return { ...result, reason: `${result.reason ? `${result.reason}; ` : ''}the output could not be read: ${(error as Error).message}` };
  }
}

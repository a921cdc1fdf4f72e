// Answers of deterministic model calls, by a hash of what was asked (never by position, so
// parallel fan-out and replays hit it). PostgreSQL when a database is configured, so every worker
// shares it and it survives restarts; an in-process LRU otherwise.
import { createHash } from 'node:crypto';
import { Pool } from 'pg';
import { stableJson } from '../shared';
import type { ModelResponse } from './model-client';

export interface ResponseCache {
  /** "postgres" or "memory", for the worker's start line. */
  readonly kind: string;
  get(key: string): Promise<ModelResponse | undefined>;
  set(key: string, response: ModelResponse): Promise<void>;
  close(): Promise<void>;
}

/** What makes two calls the same call. */
export interface CacheKeyParts {
  provider: string;
  model: string;
  system: string;
  prompt: string;
  jsonSchema?: Record<string, unknown>;
  tools?: unknown;
  turns?: unknown;
  params: Record<string, unknown>;
}

export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256').update(stableJson(parts)).digest('hex');
}

export class MemoryResponseCache implements ResponseCache {
  readonly kind = 'memory';
  private readonly entries = new Map<string, { response: ModelResponse; expiresAt: number }>();

  constructor(
    private readonly options: { maxEntries: number; ttlMs: number; now?: () => number },
  ) {}

  async get(key: string): Promise<ModelResponse | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry); // most recently used goes last
    return entry.response;
  }

  async set(key: string, response: ModelResponse): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { response, expiresAt: this.now() + this.options.ttlMs });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

const tableNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

export class PostgresResponseCache implements ResponseCache {
  readonly kind = 'postgres';
  private readonly pool: Pool;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: { databaseUrl: string; ttlMs: number; table?: string }) {
    const table = options.table ?? 'keel_response_cache';
    if (!tableNamePattern.test(table)) throw new TypeError(`cache table "${table}" must be a plain lower-case SQL identifier`);
    this.pool = new Pool({ connectionString: options.databaseUrl, max: 4 });
    // A lost connection must not take the worker down; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  private get table(): string {
    return this.options.table ?? 'keel_response_cache';
  }

  /** Creates the table once per process; safe to call from many workers at once. */
  private prepare(): Promise<void> {
    this.ready ??= this.pool
      .query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (key text PRIMARY KEY, response jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz NOT NULL)`,
      )
      .then(
        () => undefined,
        (error: unknown) => {
          this.ready = undefined;
          throw error;
        },
      );
    return this.ready;
  }

  /** Connects and creates the table; the worker calls this at start so a bad DSN fails there. */
  async check(): Promise<void> {
    await this.prepare();
  }

  async get(key: string): Promise<ModelResponse | undefined> {
    await this.prepare();
    const result = await this.pool.query<{ response: ModelResponse }>(`SELECT response FROM ${this.table} WHERE key = $1 AND expires_at > now()`, [key]);
    return result.rows[0]?.response;
  }

  async set(key: string, response: ModelResponse): Promise<void> {
    await this.prepare();
    await this.pool.query(
      `INSERT INTO ${this.table} (key, response, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET response = EXCLUDED.response, created_at = now(), expires_at = EXCLUDED.expires_at`,
      [key, JSON.stringify(response), this.options.ttlMs],
    );
  }

  /** Drops expired rows; returns how many. */
  async prune(): Promise<number> {
    await this.prepare();
    return (await this.pool.query(`DELETE FROM ${this.table} WHERE expires_at <= now()`)).rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

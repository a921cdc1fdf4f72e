// The one place a provider's HTTP error becomes a Keel failure class (issue #3's table).
import { KeelError, type FailureKind } from '../shared';

export interface ProviderErrorFacts {
  provider: string;
  status?: number;
  code?: string | null;
  message: string;
  /** Response headers, for Retry-After. */
  headers?: { get(name: string): string | null };
  connection?: 'failed' | 'timeout';
}

export function classifyProviderError(facts: ProviderErrorFacts): KeelError {
  const kind = kindOf(facts);
  const retryAfterMs = kind === 'rate_limit' ? retryAfter(facts.headers) : undefined;
  const where = facts.status ? `HTTP ${facts.status}` : facts.connection === 'timeout' ? 'timed out' : 'connection failed';
  // SDK messages often start with the status again ("429 Rate limit…"): say it once.
  const message = facts.status ? facts.message.replace(new RegExp(`^${facts.status}\\s+`), '') : facts.message;
  return new KeelError(kind, `${facts.provider}: ${where}: ${redact(message)}`, retryAfterMs === undefined ? {} : { retryAfterMs });
}

function kindOf({ status, code, message, connection }: ProviderErrorFacts): FailureKind {
  if (connection === 'timeout') return 'timeout';
  if (connection === 'failed' || status === undefined) return 'transient';
  if (status === 429) return /quota|billing/i.test(message) || code === 'insufficient_quota' ? 'budget' : 'rate_limit';
  if (status === 402) return 'budget';
  if (code === 'context_length_exceeded' || /context length|maximum context|too many tokens|prompt is too long/i.test(message)) return 'context';
  if (status === 408 || status === 409 || status >= 500) return 'transient';
  return 'permanent'; // 400, 401, 403, 404, 422 …
}

/** Retry-After in seconds or an HTTP date, or retry-after-ms; undefined when absent or unreadable. */
export function retryAfter(headers: ProviderErrorFacts['headers']): number | undefined {
  const milliseconds = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(milliseconds) && milliseconds > 0) return Math.round(milliseconds);
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Providers sometimes echo part of a key ("Incorrect API key provided: sk-abc…"): never pass it on. */
export function redact(text: string): string {
  return text.replace(/\b(sk-[A-Za-z0-9_-]{2})[A-Za-z0-9_*-]+/g, '$1…').replace(/(Bearer\s+)\S+/gi, '$1…');
}

/** A failed key check: refused when the provider said 401/403, otherwise it could not be asked. */
export function failedKeyCheck(status: number | undefined, error: unknown): { ok: false; refused: boolean; message: string } {
  return { ok: false, refused: status === 401 || status === 403, message: redact(`${status ? `HTTP ${status}: ` : ''}${(error as Error).message}`) };
}

// Encrypted history: every payload (requests, prompts, outputs, results) is sealed with AES-256-GCM
// before it leaves the process, so Temporal stores only ciphertext. The key id travels in the
// payload's metadata; new payloads use the first key, and every configured key still decrypts, so
// keys rotate by putting the new one first.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const encryptedEncoding = 'binary/encrypted';
const keyIdKey = 'encryption-key-id';
const ivBytes = 12;
const tagBytes = 16;

export interface CodecKey {
  id: string;
  key: Buffer;
}

export class AesGcmCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly current: CodecKey;

  /** @param keys the first encrypts; all decrypt. */
  constructor(keys: CodecKey[]) {
    if (keys.length === 0) throw new TypeError('the codec needs at least one key');
    for (const { id, key } of keys) if (key.length !== 32) throw new TypeError(`codec key "${id}" is ${key.length} bytes; AES-256 needs 32`);
    this.keys = new Map(keys.map(({ id, key }) => [id, key]));
    this.current = keys[0]!;
  }

  get keyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: Buffer.from(encryptedEncoding), [keyIdKey]: Buffer.from(this.current.id) }, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== encryptedEncoding) return payload;
      const id = Buffer.from(payload.metadata?.[keyIdKey] ?? []).toString();
      const key = this.keys.get(id);
      if (!key) throw new Error(`this payload was encrypted with key "${id}", which is not configured (KEEL_CODEC_KEYS has: ${[...this.keys.keys()].join(', ')})`);
      const sealed = Buffer.from(payload.data ?? []);
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, ivBytes));
      decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes));
      const plain = Buffer.concat([decipher.update(sealed.subarray(ivBytes, sealed.length - tagBytes)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** "id:base64key,…" (KEEL_CODEC_KEYS) → keys, or the reason it is not usable. */
export function parseCodecKeys(text: string): CodecKey[] | string {
  const keys: CodecKey[] = [];
  for (const entry of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const separator = entry.indexOf(':');
    if (separator <= 0) return `"${entry.slice(0, 12)}…" is not id:base64key`;
    const id = entry.slice(0, separator);
    const key = Buffer.from(entry.slice(separator + 1), 'base64');
    if (key.length !== 32) return `key "${id}" decodes to ${key.length} bytes; AES-256 needs 32 (make one with: openssl rand -base64 32)`;
    if (keys.some((other) => other.id === id)) return `key id "${id}" appears twice`;
    keys.push({ id, key });
  }
  return keys.length > 0 ? keys : 'no keys: use id:base64key[,id:base64key…], the first encrypts';
}

/**
 * A copy of an event history with every encrypted payload decrypted, for reading it (`keel trace`).
 * Replays decrypt through the worker's data converter instead.
 */
export async function decryptHistory<T>(history: T, codec: PayloadCodec): Promise<T> {
  const visit = async (value: unknown): Promise<unknown> => {
    if (Array.isArray(value)) return Promise.all(value.map(visit));
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
    if (typeof (value as { toNumber?: unknown }).toNumber === 'function') return value; // a Long (event ids)
    if (isEncrypted(value)) return (await codec.decode([value as Payload]))[0]; // a single payload (e.g. a summary)
    const entries = await Promise.all(
      Object.entries(value).map(async ([key, item]): Promise<[string, unknown]> => {
        return [key, await visit(item)];
      }),
    );
    return Object.fromEntries(entries);
  };
  return (await visit(history)) as T;
}

function isEncrypted(value: object): boolean {
  const encoding = (value as { metadata?: Record<string, Uint8Array> | null }).metadata?.encoding;
  return encoding instanceof Uint8Array && Buffer.from(encoding).toString() === encryptedEncoding;
}

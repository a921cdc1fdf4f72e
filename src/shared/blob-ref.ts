// A value too large for workflow history, stored outside it (filesystem or PostgreSQL) and passed
// by reference. Activities resolve references before they use a value; the workflow only reads the
// top-level field names (for required-field checks).

export interface BlobRef {
  /** sha256 of the stored JSON: the same value is stored once. */
  $keelBlob: string;
  bytes: number;
  /** Top-level field names when the value is an object. */
  fields?: string[];
  /** The first characters, for people reading a history. */
  preview: string;
}

export function isBlobRef(value: unknown): value is BlobRef {
  return typeof value === 'object' && value !== null && typeof (value as { $keelBlob?: unknown }).$keelBlob === 'string';
}

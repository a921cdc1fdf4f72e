// The file blob store under calls that write at once: content-addressed, so they often write the same id.
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileBlobStore } from '../../src/storage/blobs';

test('twenty writes of the same id at once all succeed and leave one whole file, no partial ones', async () => {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'keel-blobs-'));
  const store = new FileBlobStore(directory);
  const json = JSON.stringify({ messages: ['x'.repeat(10_000)] });
  await Promise.all(Array.from({ length: 20 }, () => store.put('same-id', json)));
  expect(await store.get('same-id')).toBe(json);
  expect(readdirSync(directory)).toEqual(['same-id.json']);
});

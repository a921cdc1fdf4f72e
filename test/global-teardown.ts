import { rmSync } from 'node:fs';
import type { DevServer } from '../src/servers/dev-server';

export default async function globalTeardown(): Promise<void> {
  const { keelTestServer, keelTestDatabase } = globalThis as { keelTestServer?: DevServer; keelTestDatabase?: string };
  await keelTestServer?.stop();
  if (keelTestServer?.restarts) process.stderr.write(`the test dev server was restarted ${keelTestServer.restarts} time(s): its database got stuck ("interrupted (9)")\n`);
  for (const suffix of ['', '-wal', '-shm']) if (keelTestDatabase) rmSync(`${keelTestDatabase}${suffix}`, { force: true });
}

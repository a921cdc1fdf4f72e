import { writeFileSync } from 'node:fs';
import { KeelClient } from '../client';
import { ExitCode } from './cli-error';
import type { CliIo } from './io';

export async function exportCommand(workflowId: string, options: { output?: string }, io: CliIo): Promise<number> {
  const client = await KeelClient.connect();
  try {
    const json = await client.exportHistory(workflowId);
    if (options.output) {
      writeFileSync(options.output, `${json}\n`);
      io.err(`wrote the history of ${workflowId} to ${options.output} (${json.length} bytes)`);
    } else {
      io.data(json);
    }
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}

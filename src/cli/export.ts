import { writeFileSync } from 'node:fs';
import { KeelClient } from '../client';
import { ExitCode } from './cli-error';

export async function exportCommand(workflowId: string, options: { output?: string }, io: { out: (text: string) => void; err: (text: string) => void }): Promise<number> {
  const client = await KeelClient.connect();
  try {
    const json = await client.exportHistory(workflowId);
    if (options.output) {
      writeFileSync(options.output, `${json}\n`);
      io.err(`wrote the history of ${workflowId} to ${options.output} (${json.length} bytes)`);
    } else {
      io.out(json);
    }
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}

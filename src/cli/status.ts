import { KeelClient } from '../client';
import { ExitCode } from './cli-error';
import { renderStatus } from './render';
import type { CliIo } from './io';

export async function statusCommand(workflowId: string, options: { json?: boolean }, io: CliIo): Promise<number> {
  const client = await KeelClient.connect();
  try {
    const state = await client.getStatus(workflowId);
    if (options.json) io.json(state);
    else io.out(renderStatus(state));
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}

import { KeelClient } from '../client';
import { ExitCode } from './cli-error';
import { renderStatus } from './render';

export async function statusCommand(workflowId: string, options: { json?: boolean }, io: { out: (text: string) => void }): Promise<number> {
  const client = await KeelClient.connect();
  try {
    const state = await client.getStatus(workflowId);
    io.out(options.json ? JSON.stringify(state, null, 2) : renderStatus(state));
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}

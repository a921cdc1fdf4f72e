// keel approve | reject | replan: decide a pending escalation through the validated update.
import os from 'node:os';
import { KeelClient } from '../client';
import type { DecisionKind } from '../shared';
import { CliError, ExitCode } from './cli-error';
import type { CliIo } from './io';

/** How long `keel approve` and the other decisions wait for a worker when none polls the run's task queue. */
export const defaultWaitForWorkerSeconds = 30;

export async function decideCommand(
  workflowId: string,
  decision: DecisionKind,
  options: { note?: string; reason?: string; guidance?: string; task?: string; by?: string; waitForWorker?: string },
  io: CliIo,
): Promise<number> {
  if (decision === 'reject' && !options.reason) throw new CliError('say why: `keel reject ID --reason "..."`');
  if (decision === 'replan' && !options.guidance) throw new CliError('say what to do differently: `keel replan ID --guidance "..."`');
  const waitSeconds = Number(options.waitForWorker ?? defaultWaitForWorkerSeconds);
  if (!/^\d+$/.test(options.waitForWorker ?? '0')) throw new CliError(`--wait-for-worker takes whole seconds, e.g. 30 (got "${options.waitForWorker}")`);
  const waiting = { waitForWorkerMs: waitSeconds * 1000, onWaitingForWorker: (message: string) => io.err(message) };
  const client = await KeelClient.connect();
  try {
    const note = options.reason ?? options.note;
    const payload = {
      decision,
      ...(note ? { note } : {}),
      ...(options.guidance ? { guidance: options.guidance } : {}),
      ...(options.task ? { taskId: options.task } : {}),
      // A person at a terminal: credit them, not the process (the SDK default is pid@host).
      by: options.by ?? `${os.userInfo().username}@${os.hostname()}`,
    };
    if (decision === 'replan') {
      // Its pending-escalation query needs a worker too (decide checks for itself below).
      await client.whenRunCanAnswer(workflowId, 'it cannot take the decision now; nothing was recorded', waiting);
      // With nothing pending, a replan is still possible: ask the run to replan its remaining work.
      const pending = await client.getPending(workflowId);
      if (!pending || !pending.choices.some((choice) => choice.decision === 'replan')) {
        await client.requestReplan(workflowId, options.guidance!, payload.by);
        io.out(`asked ${workflowId} to replan its remaining work`);
        return ExitCode.ok;
      }
    }
    const receipt = await client.decide(workflowId, payload, waiting);
    io.out(`${receipt.decision} recorded for ${workflowId} (escalation ${receipt.escalationId})`);
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}

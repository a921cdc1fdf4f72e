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
  options: { note?: string; reason?: string; guidance?: string; task?: string; by?: string; waitForWorker?: string; input?: string; budget?: string },
  io: CliIo,
): Promise<number> {
  if (decision === 'reject' && !options.reason) throw new CliError('say why: `keel reject ID --reason "..."`');
  if (decision === 'replan' && !options.guidance) throw new CliError('say what to do differently: `keel replan ID --guidance "..."`');
  const waitSeconds = Number(options.waitForWorker ?? defaultWaitForWorkerSeconds);
  if (!/^\d+$/.test(options.waitForWorker ?? '0')) throw new CliError(`--wait-for-worker takes whole seconds, e.g. 30 (got "${options.waitForWorker}")`);
  const input = options.input === undefined ? undefined : toolInput(options.input);
  if (options.budget !== undefined && !/^(\d+(\.\d*)?|\.\d+)$/.test(options.budget.trim())) {
    throw new CliError(`--budget is the US dollars to add, a decimal number such as 2 or 0.50 (got "${options.budget}")`);
  }
  const waiting = { waitForWorkerMs: waitSeconds * 1000, onWaitingForWorker: (message: string) => io.err(message) };
  const client = await KeelClient.connect({ door: 'cli' });
  try {
    const note = options.reason ?? options.note;
    const payload = {
      decision,
      ...(note ? { note } : {}),
      ...(options.guidance ? { guidance: options.guidance } : {}),
      ...(options.task ? { taskId: options.task } : {}),
      ...(input ? { input } : {}),
      ...(options.budget !== undefined ? { budgetUsd: Number(options.budget) } : {}),
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
    const who = receipt.by ? ` as ${receipt.by}${receipt.verified ? ' (verified)' : ''}` : '';
    if (receipt.quorum && receipt.quorum.approvedBy.length < receipt.quorum.needed) {
      const more = receipt.quorum.needed - receipt.quorum.approvedBy.length;
      io.out(`approval ${receipt.quorum.approvedBy.length} of ${receipt.quorum.needed} recorded for ${workflowId} (escalation ${receipt.escalationId})${who}; it waits for ${more} more`);
    } else {
      io.out(`${receipt.decision} recorded for ${workflowId} (escalation ${receipt.escalationId})${who}`);
    }
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}

/** `--input`: the edited tool input, a JSON object (the run checks it against the tool's schema). */
function toolInput(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--input is not valid JSON (${(error as Error).message}): give the tool's input as a JSON object, e.g. --input '{"orderId": 7}'`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliError(`--input must be a JSON object, e.g. --input '{"orderId": 7}' (got ${text.slice(0, 80)})`);
  return value as Record<string, unknown>;
}

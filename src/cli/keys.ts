// keel keys new: an Ed25519 key pair for signed decisions, as the two lines to set.
import { newKeyPair } from '../security/decision-keys';
import { CliError, ExitCode } from './cli-error';
import type { CliIo } from './io';

export function keysNewCommand(options: { id: string; identity?: string }, io: CliIo): number {
  if (options.identity !== undefined && (options.identity.trim() === '' || options.identity.includes(','))) throw new CliError('--identity is a name such as alice@acme (no commas)');
  let pair: { signingKey: string; decisionKey: string };
  try {
    pair = newKeyPair(options.id);
  } catch (error) {
    throw new CliError(`--id: ${(error as Error).message}`);
  }
  io.out(`# for the door that signs (keel serve, keel mcp, or a person's CLI); keep it secret:`);
  io.out(`KEEL_SIGNING_KEY=${pair.signingKey}`);
  io.out(`# for every worker (add it to the list to rotate; remove the old one when no run waits on it):`);
  io.out(`KEEL_DECISION_KEYS=${pair.decisionKey}${options.identity ? `:${options.identity}` : ''}`);
  return ExitCode.ok;
}

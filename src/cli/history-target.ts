// keel trace and keel replay take a history file that `keel export` wrote, or a run's workflow id.
import { existsSync, readFileSync } from 'node:fs';
import { RunNotFoundError, TemporalUnreachableError, type KeelClient } from '../client';
import { CliError } from './cli-error';

/**
 * The history JSON `target` names: the file when there is one, else the run of that id. A target
 * that looks like a path and is neither says that the file is missing, not only that no run has
 * that id (or that Temporal, asked for a run of that id, did not answer).
 */
export async function readHistoryTarget(target: string, client: () => Promise<KeelClient>): Promise<{ json: string; fromFile: boolean }> {
  if (existsSync(target)) return { json: readFileSync(target, 'utf8'), fromFile: true };
  try {
    return { json: await (await client()).exportHistory(target), fromFile: false };
  } catch (error) {
    if (!looksLikeAPath(target)) throw error;
    const give = "give the path of a history that `keel export ID --output FILE` wrote, or a run's workflow id";
    if (error instanceof RunNotFoundError) throw new CliError(`no file ${target}, and no run has that id: ${give}`);
    if (error instanceof TemporalUnreachableError) throw new CliError(`no file ${target} (and Temporal at ${error.address}, asked for a run of that id, did not answer): ${give}`);
    throw error;
  }
}

const looksLikeAPath = (target: string): boolean => target.includes('/') || target.includes('\\') || /\.json$/i.test(target);

import { loadConfig, usesTls } from '../config';
import { TemporalUnreachableError } from '../client';
import { runWorker } from '../keel-plugin';
import { describeModelProvider } from '../worker';
import { ExitCode } from './cli-error';

export async function workerCommand(io: { err: (text: string) => void }): Promise<number> {
  const config = loadConfig();
  io.err(
    `keel worker · task queue "${config.taskQueue}" · Temporal ${config.temporalAddress}${usesTls(config.temporal) ? ' (TLS)' : ''}${config.temporal.apiKey ? ' (API key)' : ''} · namespace ${config.namespace}` +
      (config.metricsAddress ? ` · metrics http://${config.metricsAddress}/metrics` : ''),
  );
  io.err(describeModelProvider(config));
  try {
    await runWorker(config);
  } catch (error) {
    if ((error as Error).name === 'TransportError' || /connect|unavailable|handshake|certificate/i.test((error as Error).message)) {
      throw new TemporalUnreachableError(config.temporalAddress, { cause: error, tls: usesTls(config.temporal) });
    }
    throw error;
  }
  return ExitCode.ok;
}

// `keel codec-server`: decrypts payloads for the Web UI (start the UI with --ui-codec-endpoint).
import { AesGcmCodec } from '../security/codec';
import { createCodecServer } from '../security/codec-server';
import { configuredAuthenticator } from '../security/api-tokens';
import { loadConfig } from '../config';
import { CliError, ExitCode } from './cli-error';
import { listenAddress } from './ports';
import { uiUrl } from './urls';

export async function codecServerCommand(options: { origin?: string[] }, io: { err: (text: string) => void }): Promise<number> {
  const config = loadConfig();
  if (!config.codecKeys) throw new CliError('set KEEL_CODEC_KEYS (id:base64key, the same keys as the workers) to run the codec server');
  const allowedOrigins = options.origin && options.origin.length > 0 ? options.origin : [new URL(uiUrl(config)).origin];
  const authenticate = configuredAuthenticator(config.serve);
  const app = createCodecServer({ codec: new AesGcmCodec(config.codecKeys), allowedOrigins, ...(authenticate ? { authenticate } : {}) });
  await app.listen(listenAddress(config.codecAddress));
  io.err(`keel codec-server · http://${config.codecAddress} (/encode, /decode) · browsers from ${allowedOrigins.join(', ')} · ${authenticate ? 'bearer tokens only (KEEL_API_TOKENS or KEEL_OIDC_*: the Web UI must send one, with its codec includeCredentials setting behind your sign-in)' : 'no token asked (set KEEL_API_TOKENS to require one)'} · start the UI with --ui-codec-endpoint http://${config.codecAddress}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.close();
  return ExitCode.ok;
}

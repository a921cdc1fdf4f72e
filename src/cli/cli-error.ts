/** Exit codes: 0 ok, 1 the run did not succeed, 2 bad input, 3 Temporal unreachable, 4 other failure. */
export const ExitCode = { ok: 0, runUnsuccessful: 1, badInput: 2, unreachable: 3, failure: 4 } as const;

/** An error the CLI reports as one sentence on stderr, with its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.badInput,
  ) {
    super(message);
  }
}

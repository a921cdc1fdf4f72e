/** The request failed validation; nothing was started. `problems` lists every one. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  constructor(readonly problems: string[]) {
    super(`the request is not valid (nothing was started):\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** No Temporal server answered at the address. */
/** Why a connection failed, in words that say which setting to look at; never a key or a certificate. */
function unreachable(address: string, options: { cause?: unknown; tls?: boolean } | undefined): string {
  const cause = String((options?.cause as Error | undefined)?.message ?? '');
  if (/certificate|handshake|tls|ssl|alert/i.test(cause) || (options?.tls && /transport|connect|broken pipe|reset/i.test(cause))) {
    return `the TLS handshake with Temporal at ${address} failed: ${firstLine(cause)} — check TEMPORAL_TLS_SERVER_CA_CERT_PATH (the CA that signed the server's certificate), TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (a client certificate the server accepts), TEMPORAL_TLS_SERVER_NAME, or the profile's tls settings`;
  }
  return `cannot reach Temporal at ${address} — start one with \`keel dev\`, or set TEMPORAL_ADDRESS`;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 300);
}

export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    options?: { cause?: unknown; tls?: boolean },
  ) {
    super(unreachable(address, options), options);
  }
}

/** No run has this id. */
export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError';
  constructor(
    readonly workflowId: string,
    what: 'run' | 'schedule' = 'run',
  ) {
    super(
      what === 'run'
        ? `no run with id "${workflowId}" — list recent runs in the Web UI or check the id`
        : `no schedule named "${workflowId}" — \`keel schedule list\` shows them`,
    );
  }
}

/** The run refused the decision (nothing pending, not a possible choice, wrong task, bad payload). */
export class InvalidDecisionError extends Error {
  override readonly name = 'InvalidDecisionError';
  constructor(
    readonly workflowId: string,
    readonly problem: string,
  ) {
    super(`run ${workflowId} refused the decision: ${problem}`);
  }
}

/** Temporal refused a call for a reason the caller can fix (a size limit, an id too long, a namespace that does not exist). */
export class TemporalRefusedError extends Error {
  override readonly name = 'TemporalRefusedError';
}

/** The run has ended: it takes no decision and answers no live query. */
export class RunEndedError extends Error {
  override readonly name = 'RunEndedError';
  constructor(
    readonly workflowId: string,
    readonly status: string,
    detail: string,
  ) {
    super(`run ${workflowId} has ended (${status})${detail}: nothing was recorded — \`keel status ${workflowId}\` shows how it ended`);
  }
}

/** No worker polls the run's task queue, so the run cannot answer now. */
export class NoWorkerError extends Error {
  override readonly name = 'NoWorkerError';
  constructor(
    readonly workflowId: string,
    readonly taskQueue: string,
    what: string,
  ) {
    super(`no worker is polling task queue "${taskQueue}", which run ${workflowId} uses, so ${what} — start one with \`keel worker\` (KEEL_TASK_QUEUE=${taskQueue}) or \`keel dev\``);
  }
}

/** The request failed validation; nothing was started. `problems` lists every one. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  constructor(readonly problems: string[]) {
    super(`the request is not valid (nothing was started):\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** No Temporal server answered at the address. */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach Temporal at ${address} — start one with \`keel dev\`, or set TEMPORAL_ADDRESS`, options);
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

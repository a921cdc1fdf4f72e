// The SDK's client: start a run, follow it, decide it, read its history; schedules.
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, type ClientOptions, type ConnectionOptions, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy, type PayloadCodec } from '@temporalio/common';
import { blobStoreFor, withStoredOutput, type BlobStore } from '../storage/blobs';
import { AesGcmCodec } from '../security/codec';
import { signDecision, signStart, type Signer, type SigningKey } from '../security/decision-keys';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { connectOptions, loadConfig, usesTls } from '../config';
import { InvalidDecisionError, InvalidRequestError, NoWorkerError, RunEndedError, RunNotFoundError, TemporalUnreachableError } from './errors';
import {
  decideUpdate,
  KeelPhase,
  keelStatusKey,
  pendingQuery,
  replanSignal,
  stateQuery,
  workflowIdPrefix,
  workflowType,
  type AgentRequest,
  type AgentRequestInput,
  type Decision,
  type DecisionReceipt,
  type PendingEscalation,
  type RunResult,
  type RunState,
  type StreamEvent,
  type StreamPage,
  streamEventsQuery,
  streamPageLimit,
} from '../shared';
import type { agentRun } from '../workflows';
import { grpcCode, GrpcCode, translateError } from './grpc-errors';
import { parseRequest, startStatus, truncate } from './request-door';
import { stateFromResult } from './run-state';
import { scheduleInfo, type ScheduleInfo } from './schedules';


export interface KeelClientOptions {
  /** Default: TEMPORAL_ADDRESS, else the profile's (TEMPORAL_PROFILE in the TOML config file), else localhost:7233. */
  address?: string;
  /** Default: TEMPORAL_NAMESPACE, else the profile's, else "default". */
  namespace?: string;
  /** TLS (a client certificate for mTLS, the server's CA); default: the profile's and TEMPORAL_TLS_* (as the `temporal` CLI reads them). */
  tls?: ConnectionOptions['tls'];
  /** An API key (Temporal Cloud); default: TEMPORAL_API_KEY or the profile's. */
  apiKey?: string;
  /** Default $KEEL_TASK_QUEUE or "keel". */
  taskQueue?: string;
  /** Client plugins, e.g. telemetryPlugin(...) so a trace starts at startRun. */
  plugins?: ClientOptions['plugins'];
  /** Where outputs too large for history are (default: as the workers: PostgreSQL with KEEL_DATABASE_URL, else KEEL_HOME/blobs). */
  blobs?: BlobStore;
  /** Payload codec (default: AES-GCM from $KEEL_CODEC_KEYS when set); must match the workers'. */
  codec?: PayloadCodec;
  /**
   * Sign decisions and starts with this Ed25519 key, so runs can verify who sent them (default:
   * KEEL_SIGNING_KEY; `false`: never sign). The workers must list its public key in KEEL_DECISION_KEYS.
   */
  signingKey?: SigningKey | false;
  /** The door signatures name (default "sdk"; the CLI says "cli"). */
  door?: string;
}

/** Who a door vouches for, when it signs for someone it authenticated (keel serve: the token's name and groups). */
export type SignAs = Omit<Signer, 'door'> & { door?: string };

export interface DecideOptions {
  /** When no worker polls the run's task queue: wait this long for one before giving up (default 0: give up at once). */
  waitForWorkerMs?: number;
  /** Told once when the wait for a worker begins. */
  onWaitingForWorker?: (message: string) => void;
  /** Sign as this identity (a door that authenticated the caller); default: the decision's `by`, else this client's identity. */
  as?: SignAs;
}

export interface StartedRun {
  workflowId: string;
  runId: string;
  /** True when a run with this idempotency key already existed and this call attached to it. */
  attached: boolean;
}

export class KeelClient {
  private constructor(
    private readonly connection: Connection,
    readonly temporal: Client,
    readonly taskQueue: string,
    readonly address: string,
    private readonly blobs: BlobStore,
    private readonly signing: { key?: SigningKey; door: string } = { door: 'sdk' },
  ) {}

  static async connect(options: KeelClientOptions = {}): Promise<KeelClient> {
    const config = loadConfig();
    const address = options.address ?? config.temporalAddress;
    const namespace = options.namespace ?? config.namespace;
    const settings = { ...connectOptions(config.temporal), address, ...(options.tls !== undefined ? { tls: options.tls } : {}), ...(options.apiKey ? { apiKey: options.apiKey } : {}) };
    let connection: Connection;
    try {
      connection = await Connection.connect({ ...settings, connectTimeout: '3s' });
    } catch (error) {
      // Credentials the server refused (a token signed by a key it does not know) are not an unreachable server.
      const code = grpcCode(error);
      if (code === GrpcCode.permissionDenied || code === GrpcCode.unauthenticated) throw translateError(error, { address, namespace, action: 'connect' });
      throw new TemporalUnreachableError(address, { cause: error, tls: usesTls(settings) });
    }
    const codec = options.codec ?? (config.codecKeys ? new AesGcmCodec(config.codecKeys) : undefined);
    const client = new Client({
      connection,
      namespace,
      ...(options.plugins ? { plugins: options.plugins } : {}),
      ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}),
    });
    const blobs = options.blobs ?? blobStoreFor({ home: config.home, databaseUrl: config.models.cache.databaseUrl });
    const signingKey = options.signingKey === false ? undefined : (options.signingKey ?? config.signingKey);
    return new KeelClient(connection, client, options.taskQueue ?? config.taskQueue, address, blobs, { ...(signingKey ? { key: signingKey } : {}), door: options.door ?? 'sdk' });
  }

  /**
   * Validates the request and starts the run. The idempotency key is the workflow id: a second
   * start with the same key attaches to the first run (running or finished) instead of starting one.
   * With `dedupeWindowMs`, a key attaches only to a run started within that window; after it, the
   * same key starts a new run. `priority` 1 (first) … 5 (last), Temporal's priority key; default 3.
   */
  async startRun(request: AgentRequestInput, options: { priority?: number; dedupeWindowMs?: number; as?: SignAs } = {}): Promise<StartedRun> {
    const parsed = parseRequest(request);
    const workflowId = parsed.data.idempotencyKey ?? `${workflowIdPrefix}${randomUUID()}`;
    // With a signing key, the run learns who started it (for approvals.forbidSelfApproval).
    if (this.signing.key) parsed.data.startedBy = signStart(this.signing.key, workflowId, this.signer(options.as));
    // With a window: a run under this key started within it is attached to; one before it lets a new run start.
    let allowAnother = false;
    if (options.dedupeWindowMs !== undefined) {
      const earlier = await this.recentRun(workflowId, options.dedupeWindowMs);
      if (earlier === 'stale') allowAnother = true;
      else if (earlier) return earlier;
    }
    try {
      const handle = await this.temporal.workflow.start<typeof agentRun>(workflowType, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [parsed.data],
        // Only a run older than the window may be followed by another. Where there was none, a run a
        // concurrent delivery started a moment ago (even one already finished) is attached to.
        workflowIdReusePolicy: allowAnother ? WorkflowIdReusePolicy.ALLOW_DUPLICATE : WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [{ key: keelStatusKey, value: startStatus(parsed.data) }],
        staticSummary: `keel · ${truncate(parsed.data.goal, 80)}`,
        ...(options.priority !== undefined ? { priority: { priorityKey: options.priority } } : {}),
      });
      return { workflowId, runId: handle.firstExecutionRunId, attached: false };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw this.translate(error, undefined, 'start runs');
      const description = await this.temporal.workflow.getHandle(workflowId).describe();
      return { workflowId, runId: description.runId, attached: true };
    }
  }

  /**
   * A Temporal Schedule that starts this request on a cron expression or at a fixed interval. Each
   * firing is a new run (the schedule names it), so the request may not carry an idempotencyKey.
   */
  async createSchedule(scheduleId: string, when: { cron?: string; every?: string }, request: AgentRequestInput): Promise<ScheduleInfo> {
    const problems: string[] = [];
    if (!when.cron === !when.every) problems.push('give exactly one of --cron "MIN HOUR DOM MON DOW" or --every DURATION (e.g. 1h)');
    let parsed: { data: AgentRequest };
    try {
      parsed = parseRequest(request);
    } catch (error) {
      if (error instanceof InvalidRequestError) throw new InvalidRequestError([...error.problems, ...problems]);
      throw error;
    }
    if (parsed.data.idempotencyKey) problems.push('idempotencyKey: a schedule starts a new run each time; remove the key');
    if (problems.length > 0) throw new InvalidRequestError(problems);
    try {
      await this.temporal.schedule.create({
        scheduleId,
        spec: when.cron ? { cronExpressions: [when.cron] } : { intervals: [{ every: when.every as `${number}s` }] },
        action: {
          type: 'startWorkflow',
          workflowType,
          workflowId: scheduleId,
          taskQueue: this.taskQueue,
          args: [parsed.data],
          typedSearchAttributes: [{ key: keelStatusKey, value: startStatus(parsed.data) }],
          staticSummary: `keel · ${truncate(parsed.data.goal, 80)} (schedule ${scheduleId})`,
        },
        // The server turns cron into calendars; keep what the user wrote, to show it back.
        memo: { goal: parsed.data.goal, spec: when.cron ? `cron ${when.cron}` : `every ${when.every}` },
      });
    } catch (error) {
      if ((error as Error).name === 'ScheduleAlreadyRunning') throw new InvalidRequestError([`a schedule named "${scheduleId}" exists: delete it first or pick another --id`]);
      const code = (error as { code?: number }).code;
      // The SDK rethrows the server's INVALID_ARGUMENT (a bad cron, say) as a TypeError.
      if (code === 3 /* INVALID_ARGUMENT */ || error instanceof TypeError) throw new InvalidRequestError([`Temporal refused the schedule: ${(error as Error).message}`]);
      throw this.translate(error, undefined, 'create schedules');
    }
    return scheduleInfo(scheduleId, await this.temporal.schedule.getHandle(scheduleId).describe());
  }

  /** Keel's schedules on this task queue's namespace, with their next and latest runs. */
  async listSchedules(): Promise<ScheduleInfo[]> {
    const schedules: ScheduleInfo[] = [];
    for await (const summary of this.temporal.schedule.list()) {
      if (summary.action?.type === 'startWorkflow' && summary.action.workflowType === workflowType) schedules.push(scheduleInfo(summary.scheduleId, summary));
    }
    return schedules;
  }

  async deleteSchedule(scheduleId: string): Promise<void> {
    try {
      await this.temporal.schedule.getHandle(scheduleId).delete();
    } catch (error) {
      if ((error as Error).name === 'ScheduleNotFoundError') throw new RunNotFoundError(scheduleId, 'schedule');
      throw this.translate(error, undefined, 'delete schedules');
    }
  }

  /** The run with this id if it is still running or started less than `windowMs` ago; 'stale' if one started before; undefined if none. */
  private async recentRun(workflowId: string, windowMs: number): Promise<StartedRun | 'stale' | undefined> {
    try {
      const description = await this.temporal.workflow.getHandle(workflowId).describe();
      const recent = description.status.name === 'RUNNING' || Date.now() - description.startTime.getTime() < windowMs;
      return recent ? { workflowId, runId: description.runId, attached: true } : 'stale';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw this.translate(error, undefined, 'read runs');
    }
  }

  /**
   * Live progress from the run's `state` query while it runs (answered by a worker); once it has
   * ended, the state is read from its result, so no worker is needed.
   */
  async getStatus(workflowId: string): Promise<RunState> {
    try {
      const handle = this.handle(workflowId);
      const { status, taskQueue } = await handle.describe();
      if (status.name === 'RUNNING') {
        // A query no worker answers waits until gRPC gives up: say why at once instead.
        if (!(await this.hasWorkers(taskQueue))) throw new NoWorkerError(workflowId, taskQueue, 'it cannot answer for its live state (the run itself waits, unharmed)');
        return await this.queryState(workflowId);
      }
      return stateFromResult(await withStoredOutput(await handle.result(), this.blobs));
    } catch (error) {
      throw this.translate(error, workflowId, 'read runs');
    }
  }

  /** The run's `state` query, answered by a worker (also after the run ended, while a worker polls). */
  async queryState(workflowId: string): Promise<RunState> {
    try {
      return await this.handle(workflowId).query(stateQuery);
    } catch (error) {
      throw this.translate(error, workflowId, 'read runs');
    }
  }

  /**
   * Decides the run's pending escalation (update `decide`, validated by the run): an invalid
   * decision, an unknown taskId or no pending escalation is an InvalidDecisionError. `by`
   * defaults to this client's identity.
   */
  async decide(workflowId: string, decision: Decision, options: DecideOptions = {}): Promise<DecisionReceipt> {
    // An update to a run no worker serves would wait in silence; to an ended one, fail as "not found".
    await this.whenRunCanAnswer(workflowId, 'it cannot take the decision now; nothing was recorded', options);
    try {
      const claimed: Decision = { ...decision, by: options.as?.by ?? decision.by ?? this.identity };
      return await this.handle(workflowId).executeUpdate(decideUpdate, { args: [await this.signed(workflowId, claimed, options.as)] });
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === 'invalid_decision') {
        throw new InvalidDecisionError(workflowId, error.cause.message);
      }
      // It ended while the decision was on its way.
      if (error instanceof WorkflowNotFoundError || grpcCode(error) === GrpcCode.notFound) await this.whenRunCanAnswer(workflowId, 'it cannot take the decision', {});
      throw this.translate(error, workflowId, 'decide runs');
    }
  }

  /**
   * Returns when the run is running and a worker polls its task queue. Throws RunEndedError (how it
   * ended, and who decided last), or NoWorkerError at once, or after `waitForWorkerMs`.
   */
  async whenRunCanAnswer(workflowId: string, what: string, options: DecideOptions): Promise<void> {
    const handle = this.handle(workflowId);
    let description: Awaited<ReturnType<typeof handle.describe>>;
    try {
      description = await handle.describe();
    } catch (error) {
      throw this.translate(error, workflowId, 'read runs');
    }
    if (description.status.name !== 'RUNNING') throw new RunEndedError(workflowId, description.status.name.toLowerCase(), await this.howItEnded(workflowId, description));
    const { taskQueue } = description;
    if (await this.hasWorkers(taskQueue)) return;
    const waitMs = options.waitForWorkerMs ?? 0;
    if (waitMs <= 0) throw new NoWorkerError(workflowId, taskQueue, what);
    options.onWaitingForWorker?.(`no worker is polling task queue "${taskQueue}" yet, which run ${workflowId} uses: waiting up to ${Math.round(waitMs / 1000)} s for one (nothing is recorded until then)`);
    for (const until = Date.now() + waitMs; Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (await this.hasWorkers(taskQueue)) return;
    }
    throw new NoWorkerError(workflowId, taskQueue, `${what}: none came within ${Math.round(waitMs / 1000)} s`);
  }

  /** ", at <time>; the last escalation ... was decided: approve by ana", as far as the run says. */
  private async howItEnded(workflowId: string, description: { closeTime?: Date }): Promise<string> {
    const at = description.closeTime ? ` at ${description.closeTime.toISOString()}` : '';
    const result = await this.handle(workflowId)
      .result()
      .catch(() => undefined);
    const last = result?.escalations.at(-1);
    const decided = last?.decision ? `; its last escalation${last.taskId ? ` (task ${last.taskId})` : ''} was decided: ${last.decision} by ${last.decidedBy ?? 'unknown'}` : '';
    return `${at}${result ? `, status ${result.status}` : ''}${decided}`;
  }

  /** Asks a running run to replan its remaining work with this guidance (signal `replan`). */
  async requestReplan(workflowId: string, guidance: string, by: string = this.identity): Promise<void> {
    try {
      await this.handle(workflowId).signal(replanSignal, { guidance, by });
    } catch (error) {
      throw this.translate(error, workflowId, 'signal runs');
    }
  }

  /**
   * The run's live stream, from after `after` (default: the start): its events in order, each once,
   * ending after `run.ended`. It reads the run with a query (nothing is written to history) every
   * `pollMs`; while the run cannot answer (no worker, the server restarting) it keeps trying, and
   * goes on from the last event it yielded. An unknown run is a RunNotFoundError.
   */
  async *events(workflowId: string, options: { after?: number; pollMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<StreamEvent> {
    let after = options.after ?? -1;
    const pollMs = options.pollMs ?? 100;
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    let failures = 0;
    while (!options.signal?.aborted) {
      let page: StreamPage;
      try {
        page = await this.handle(workflowId).query(streamEventsQuery, { after });
        failures = 0;
      } catch (error) {
        const translated = this.translate(error, workflowId, 'read runs');
        if (translated instanceof RunNotFoundError) throw translated;
        // No worker, a worker restarting, the server restarting: try again, a little slower each time.
        failures += 1;
        await pause(Math.min(2_000, pollMs * 2 ** Math.min(failures, 5)));
        continue;
      }
      for (const event of page.events) {
        after = event.offset;
        yield event;
        if (event.type === 'run.ended') return;
      }
      if (page.ended && page.events.length === 0) return;
      // A full page: read on at once; otherwise wait for more.
      if (page.events.length < streamPageLimit) await pause(pollMs);
    }
  }

  /** The run as Temporal describes it (no worker needed); RunNotFoundError for an unknown id. */
  async getRunDescription(workflowId: string): Promise<{ status: string; startTime: Date }> {
    try {
      const description = await this.handle(workflowId).describe();
      return { status: description.status.name, startTime: description.startTime };
    } catch (error) {
      throw this.translate(error, workflowId, 'read runs');
    }
  }

  /** The escalation a run waits on, or null. */
  async getPending(workflowId: string): Promise<PendingEscalation | null> {
    try {
      return await this.handle(workflowId).query(pendingQuery);
    } catch (error) {
      throw this.translate(error, workflowId, 'read runs');
    }
  }

  /** Runs waiting for a human decision (KeelStatus = "awaiting_approval"), with what each waits on. */
  async listPending(): Promise<Array<{ workflowId: string; startTime: Date; pending: PendingEscalation | null }>> {
    const runs: Array<{ workflowId: string; startTime: Date; pending: PendingEscalation | null }> = [];
    try {
      for await (const execution of this.temporal.workflow.list({ query: `KeelStatus = "${KeelPhase.awaitingApproval}" AND ExecutionStatus = "Running"` })) {
        runs.push({ workflowId: execution.workflowId, startTime: execution.startTime, pending: await this.getPending(execution.workflowId).catch(() => null) });
      }
    } catch (error) {
      throw this.translate(error, undefined, 'list runs');
    }
    return runs;
  }

  /** Who this client signs as. */
  private signer(as: SignAs | undefined, by: string = this.identity): Signer {
    return { by: as?.by ?? by, ...(as?.groups ? { groups: as.groups } : {}), door: as?.door ?? this.signing.door };
  }

  /** The decision with this client's signature for the run's pending escalation (unchanged without a signing key, or with nothing pending). */
  private async signed(workflowId: string, decision: Decision, as: SignAs | undefined): Promise<Decision> {
    const { signature: _given, ...unsigned } = decision;
    if (!this.signing.key) return decision;
    const pending = await this.getPending(workflowId);
    // Nothing pending: send it unsigned, and the run says why it cannot take it.
    if (!pending) return unsigned;
    const signature = signDecision(this.signing.key, { workflowId, escalationId: pending.id, since: pending.since }, unsigned, this.signer(as, unsigned.by));
    return { ...unsigned, signature };
  }

  get identity(): string {
    return this.temporal.options.identity ?? 'keel-client';
  }

  /** The run's event history as JSON, in the format `temporal workflow show --output json` writes. */
  async exportHistory(workflowId: string): Promise<string> {
    try {
      return historyToJSON(await this.handle(workflowId).fetchHistory());
    } catch (error) {
      throw this.translate(error, workflowId, 'read histories');
    }
  }

  /** Whether any worker polls this client's task queue (a run waits, unstarted, while none does). */
  async hasWorkers(taskQueue: string = this.taskQueue): Promise<boolean> {
    const response = await this.temporal.workflowService.describeTaskQueue({
      namespace: this.temporal.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (response.pollers ?? []).length > 0;
  }

  /** Waits for the run to end and returns its RunResult. */
  async getResult(workflowId: string): Promise<RunResult> {
    let result: RunResult;
    try {
      result = await this.handle(workflowId).result();
    } catch (error) {
      throw this.translate(error, workflowId, 'read runs');
    }
    return withStoredOutput(result, this.blobs);
  }

  handle(workflowId: string): WorkflowHandle<typeof agentRun> {
    return this.temporal.workflow.getHandle<typeof agentRun>(workflowId);
  }

  async close(): Promise<void> {
    await this.blobs.close();
    await this.connection.close();
  }

  /** Temporal's errors as Keel's, each a sentence that says what to do; anything else as it is. */
  private translate(error: unknown, workflowId?: string, action?: string): unknown {
    return translateError(error, { address: this.address, namespace: this.temporal.options.namespace, ...(workflowId ? { workflowId } : {}), ...(action ? { action } : {}) });
  }

}


// The SDK: start a run, follow it, get its result.
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { loadConfig } from './config';
import { InvalidRequestError, RunNotFoundError, TemporalUnreachableError } from './client-errors';
import { AgentRequestSchema, describeIssues, keelStatusKey, stateQuery, workflowIdPrefix, type AgentRequestInput, type RunResult, type RunState } from './shared';
import type { agentRun } from './workflows';

export { InvalidRequestError, RunNotFoundError, TemporalUnreachableError } from './client-errors';

export interface KeelClientOptions {
  /** Default $TEMPORAL_ADDRESS or localhost:7233. */
  address?: string;
  /** Default $TEMPORAL_NAMESPACE or "default". */
  namespace?: string;
  /** Default $KEEL_TASK_QUEUE or "keel". */
  taskQueue?: string;
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
  ) {}

  static async connect(options: KeelClientOptions = {}): Promise<KeelClient> {
    const config = loadConfig();
    const address = options.address ?? config.temporalAddress;
    const namespace = options.namespace ?? config.namespace;
    let connection: Connection;
    try {
      connection = await Connection.connect({ address, connectTimeout: '3s' });
    } catch (error) {
      throw new TemporalUnreachableError(address, { cause: error });
    }
    return new KeelClient(connection, new Client({ connection, namespace }), options.taskQueue ?? config.taskQueue, address);
  }

  /**
   * Validates the request and starts the run. The idempotency key is the workflow id: a second
   * start with the same key attaches to the first run (running or finished) instead of starting one.
   */
  async startRun(request: AgentRequestInput): Promise<StartedRun> {
    const parsed = AgentRequestSchema.safeParse(request);
    if (!parsed.success) throw new InvalidRequestError(describeIssues(parsed.error));
    const workflowId = parsed.data.idempotencyKey ?? `${workflowIdPrefix}${randomUUID()}`;
    try {
      const handle = await this.temporal.workflow.start<typeof agentRun>('agentRun', {
        workflowId,
        taskQueue: this.taskQueue,
        args: [parsed.data],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [{ key: keelStatusKey, value: 'planning' }],
        staticSummary: `keel · ${truncate(parsed.data.goal, 80)}`,
      });
      return { workflowId, runId: handle.firstExecutionRunId, attached: false };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw this.translate(error);
      const description = await this.temporal.workflow.getHandle(workflowId).describe();
      return { workflowId, runId: description.runId, attached: true };
    }
  }

  /** Live progress from the run's `state` query; needs a worker for the run's task queue. */
  async getStatus(workflowId: string): Promise<RunState> {
    try {
      return await this.handle(workflowId).query(stateQuery);
    } catch (error) {
      throw this.translate(error, workflowId);
    }
  }

  /** Waits for the run to end and returns its RunResult. */
  async getResult(workflowId: string): Promise<RunResult> {
    try {
      return await this.handle(workflowId).result();
    } catch (error) {
      throw this.translate(error, workflowId);
    }
  }

  handle(workflowId: string): WorkflowHandle<typeof agentRun> {
    return this.temporal.workflow.getHandle<typeof agentRun>(workflowId);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private translate(error: unknown, workflowId?: string): unknown {
    if (error instanceof WorkflowNotFoundError && workflowId) return new RunNotFoundError(workflowId);
    const code = (error as { code?: number } | undefined)?.code;
    if (code === 14 /* UNAVAILABLE */) return new TemporalUnreachableError(this.address, { cause: error });
    return error;
  }
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

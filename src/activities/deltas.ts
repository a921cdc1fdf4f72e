// A model call's deltas on their way to the run's stream: gathered for up to deltaBatchMs, then sent
// as one signal to the run (in order, one at a time). The last batch is sent before the activity
// returns, so the stream has every delta before the task's next event.
import { Context, log } from '@temporalio/activity';
import { deltaBatchMs, streamDeltasSignal, type DeltaBatch, type ToolCallDelta } from '../shared';
import type { ModelDelta } from '../llm/model-client';
import { GrpcCode, grpcCode } from '../client/grpc-errors';

/** Tries of one batch before it is given up (about 30 s through an outage). */
const sendAttempts = 18;
/** A batch is sent at once when it holds this much text, whatever the time: a signal stays far below Temporal's payload limit. */
const batchChars = 32_768;

export class DeltaPublisher {
  private text = '';
  private toolCalls: ToolCallDelta[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: (batch: DeltaBatch) => Promise<void>,
    private readonly call: Omit<DeltaBatch, 'text' | 'toolCalls'>,
    private readonly batchMs: number = deltaBatchMs,
  ) {}

  /** The publisher for the current activity's call `key`, signalling the run that called it. */
  static forActivity(key: string, taskId: string | undefined, batchMs = deltaBatchMs): DeltaPublisher {
    const context = Context.current();
    const workflowId = context.info.workflowExecution?.workflowId;
    const call = { key, ...(taskId ? { taskId } : {}), attempt: context.info.attempt };
    // An activity run outside a workflow has no stream to feed; a worker set to send no deltas feeds none.
    if (!workflowId || batchMs === 0) return new DeltaPublisher(async () => {}, call);
    const handle = context.client.workflow.getHandle(workflowId);
    return new DeltaPublisher((batch) => handle.signal(streamDeltasSignal, batch), call, batchMs);
  }

  readonly push = (delta: ModelDelta): void => {
    if (delta.text) this.text += delta.text;
    if (delta.toolCall) {
      const last = this.toolCalls.at(-1);
      if (last && last.index === delta.toolCall.index && !delta.toolCall.name) last.arguments += delta.toolCall.arguments;
      else this.toolCalls.push({ ...delta.toolCall });
    }
    if (this.text.length >= batchChars) {
      if (this.timer) clearTimeout(this.timer);
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  };

  private flush(failure?: string): void {
    this.timer = undefined;
    if (this.text === '' && this.toolCalls.length === 0 && failure === undefined) return;
    const batch: DeltaBatch = { ...this.call, text: this.text, ...(this.toolCalls.length > 0 ? { toolCalls: this.toolCalls } : {}), ...(failure !== undefined ? { failure } : {}) };
    this.text = '';
    this.toolCalls = [];
    this.enqueue(batch);
  }

  /** A later attempt says so at once, so the stream marks the earlier attempt's text void before this one's comes. */
  begin(): void {
    if (this.call.attempt > 1) this.enqueue({ ...this.call, text: '' });
  }

  /**
   * Sends what is left (and how the attempt failed) and waits until every batch is delivered. A call
   * that did not stream (a cache hit, a scripted entry without delayMs) sent nothing: a signal for
   * each such call would cost every run history and a workflow task; its answer is in its result.
   */
  async close(outcome: { failure?: string } = {}): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.flush(outcome.failure);
    await this.sending;
  }

  private enqueue(batch: DeltaBatch): void {
    // In order, one at a time; through a short outage of the server (it restarts) each batch is
    // tried again. A stream that misses a batch is worse than a slow one, but never worth failing the call for.
    this.sending = this.sending.then(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.send(batch);
          return;
        } catch (error) {
          // Only an unreachable server is worth waiting for; a refusal (the run ended, a payload too large) is final.
          const code = grpcCode(error);
          const passing = code === GrpcCode.unavailable || code === GrpcCode.deadlineExceeded || code === undefined;
          if (attempt >= sendAttempts || !passing) {
            log.warn('a batch of model text did not reach the run stream', { key: batch.key, error: (error as Error).message });
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
        }
      }
    });
  }
}

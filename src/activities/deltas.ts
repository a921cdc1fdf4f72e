// A model call's deltas on their way to the run's stream: gathered for up to deltaBatchMs, then sent
// as one signal to the run (in order, one at a time). The last batch is sent before the activity
// returns, so the stream has every delta before the task's next event.
import { Context, log } from '@temporalio/activity';
import { deltaBatchMs, streamDeltasSignal, type DeltaBatch, type ToolCallDelta } from '../shared';
import type { ModelDelta } from '../llm/model-client';

export class DeltaPublisher {
  private text = '';
  private toolCalls: ToolCallDelta[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  /** True once any delta came: a call that streamed nothing (a cache hit) is sent whole at the end. */
  heard = false;

  constructor(
    private readonly send: (batch: DeltaBatch) => Promise<void>,
    private readonly call: Omit<DeltaBatch, 'text' | 'toolCalls'>,
  ) {}

  /** The publisher for the current activity's call `key`, signalling the run that called it. */
  static forActivity(key: string, taskId: string | undefined): DeltaPublisher {
    const context = Context.current();
    const workflowId = context.info.workflowExecution?.workflowId;
    const call = { key, ...(taskId ? { taskId } : {}), attempt: context.info.attempt };
    // An activity run outside a workflow has no stream to feed.
    if (!workflowId) return new DeltaPublisher(async () => {}, call);
    const handle = context.client.workflow.getHandle(workflowId);
    return new DeltaPublisher((batch) => handle.signal(streamDeltasSignal, batch), call);
  }

  readonly push = (delta: ModelDelta): void => {
    this.heard = true;
    if (delta.text) this.text += delta.text;
    if (delta.toolCall) {
      const last = this.toolCalls.at(-1);
      if (last && last.index === delta.toolCall.index && !delta.toolCall.name) last.arguments += delta.toolCall.arguments;
      else this.toolCalls.push({ ...delta.toolCall });
    }
    this.timer ??= setTimeout(() => this.flush(), deltaBatchMs);
  };

  private flush(): void {
    this.timer = undefined;
    if (this.text === '' && this.toolCalls.length === 0) return;
    const batch: DeltaBatch = { ...this.call, text: this.text, ...(this.toolCalls.length > 0 ? { toolCalls: this.toolCalls } : {}) };
    this.text = '';
    this.toolCalls = [];
    // A stream that misses a batch is worse than a slow one, but never worth failing the call for.
    this.sending = this.sending.then(() => this.send(batch)).catch((error: unknown) => log.debug('a delta batch was not delivered', { error: (error as Error).message }));
  }

  /** Sends what is left (or, when nothing streamed, the whole answer) and waits until every batch is delivered. */
  async close(answer?: string): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (!this.heard && answer) this.text = answer;
    this.flush();
    await this.sending;
  }
}

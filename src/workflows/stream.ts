// The run's live stream. The run adds its own events as they happen (they are derived from what it
// does, so replay rebuilds them and history holds nothing extra for them); activities add model
// text deltas by signal (history holds each batch, encrypted by the codec like any payload);
// readers page through with the `keelEvents` query, which writes nothing to history.
import { setHandler } from '@temporalio/workflow';
import { streamDeltasSignal, streamEventsQuery, streamPageLimit, type DeltaBatch, type StreamEvent, type StreamEventBody, type StreamPage } from '../shared/workflow';

/** The stream keeps this many events; older ones are dropped (a reader resuming before them is told where the stream now starts). */
export const streamKeeps = 20_000;

export class RunStream {
  private readonly events: StreamEvent[] = [];
  private nextOffset: number;
  /** The attempt each model call's deltas came from last, to mark a new attempt, and how it failed. */
  private readonly attempts = new Map<string, number>();
  private readonly failures = new Map<string, string>();
  private ended = false;

  /** `from`: the offset the stream goes on from (after continue-as-new, where the earlier run stopped). */
  constructor(from = 0) {
    this.nextOffset = from;
  }

  install(): void {
    setHandler(streamDeltasSignal, (batch) => this.deltas(batch), { description: "A model call's text deltas, from Keel's activities." });
    setHandler(streamEventsQuery, (options) => this.page(options ?? {}), { description: "The run's live events after an offset: { after?, limit? }." });
  }

  emit(body: StreamEventBody): void {
    if (this.ended) return;
    this.events.push({ offset: this.nextOffset++, at: new Date(Date.now()).toISOString(), ...body } as StreamEvent);
    if (this.events.length > streamKeeps) this.events.splice(0, this.events.length - streamKeeps);
    if (body.type === 'run.ended') this.ended = true;
  }

  /** A continued run goes on counting from where the earlier one stopped. */
  continueFrom(offset: number): void {
    if (this.events.length === 0) this.nextOffset = Math.max(this.nextOffset, offset);
  }

  /** Where the next run of a continued chain starts counting. */
  get offset(): number {
    return this.nextOffset;
  }

  private deltas(batch: DeltaBatch): void {
    if (!batch || typeof batch.text !== 'string' || typeof batch.key !== 'string' || typeof batch.attempt !== 'number') return;
    const last = this.attempts.get(batch.key) ?? (batch.attempt > 1 ? batch.attempt - 1 : undefined);
    if (last !== undefined && batch.attempt > last) {
      const failure = this.failures.get(batch.key) ?? `attempt ${last} did not finish (its worker stopped, or it timed out)`;
      this.failures.delete(batch.key);
      this.emit({ type: 'task.retrying', key: batch.key, ...(batch.taskId ? { taskId: batch.taskId } : {}), attempt: batch.attempt, failure });
    }
    this.attempts.set(batch.key, Math.max(last ?? 0, batch.attempt));
    if (typeof batch.failure === 'string') this.failures.set(batch.key, batch.failure.slice(0, 1_000));
    const toolCalls = Array.isArray(batch.toolCalls) && batch.toolCalls.length > 0 ? batch.toolCalls : undefined;
    if (batch.text === '' && !toolCalls) return;
    this.emit({ type: 'model.delta', key: batch.key, ...(batch.taskId ? { taskId: batch.taskId } : {}), attempt: batch.attempt, text: batch.text, ...(toolCalls ? { toolCalls } : {}) });
  }

  private page(options: { after?: number; limit?: number }): StreamPage {
    const first = this.events[0]?.offset ?? this.nextOffset;
    const after = typeof options.after === 'number' ? options.after : -1;
    const limit = Math.max(1, Math.min(streamPageLimit, typeof options.limit === 'number' ? options.limit : streamPageLimit));
    const start = Math.max(0, after + 1 - first);
    const events = this.events.slice(start, start + limit);
    const next = events.at(-1)?.offset ?? Math.max(after, first - 1);
    return { events, next, first, ended: this.ended && start + events.length >= this.events.length };
  }
}

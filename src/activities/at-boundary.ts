// Every activity body runs inside this: it heartbeats while it runs, and whatever it throws leaves
// as a classified ApplicationFailure (failure-boundary.ts), with what the call spent.
import { Context } from '@temporalio/activity';
import { toApplicationFailure } from './failure-boundary';
import type { Spent } from './model-calls';

/** Runs an activity body and turns whatever it throws into a classified ApplicationFailure. */
export async function atBoundary<T>(body: (spent: Spent) => Promise<T>): Promise<T> {
  const spent: Spent = {};
  const stopBeating = heartbeatWhileRunning(Context.current());
  try {
    return await body(spent);
  } catch (error) {
    throw toApplicationFailure(error, Context.current().info.attempt, spent.call, spent.breakers);
  } finally {
    stopBeating();
  }
}

/**
 * Heartbeats while a call runs, so that when a worker dies Temporal retries its activities after
 * the heartbeat timeout rather than the whole start-to-close timeout. Cheap: a call shorter than a
 * third of the timeout sends none, and the SDK throttles the rest.
 */
export function heartbeatWhileRunning(context: Context): () => void {
  const timeoutMs = context.info.heartbeatTimeoutMs;
  if (!timeoutMs) return () => undefined;
  // Details a call reported (an MCP tool's progress) stay the heartbeat's details: the timer's own
  // beats send the last ones again instead of clearing them.
  const timer = setInterval(() => context.heartbeat(reported.get(context)), Math.max(250, Math.floor(timeoutMs / 3)));
  return () => {
    clearInterval(timer);
    reported.delete(context);
  };
}

const reported = new WeakMap<Context, unknown>();

/**
 * For the activity running now: a function that heartbeats with the details it is given, and keeps
 * them as the details of the beats that follow. Made while the activity runs, it can be called
 * from callbacks that run outside it (a protocol client's notifications). Outside an activity, it does nothing.
 */
export function progressReporter(): (details: unknown) => void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return () => undefined;
  }
  return (details) => {
    reported.set(context, details);
    context.heartbeat(details);
  };
}

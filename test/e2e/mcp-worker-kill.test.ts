// A `keel worker` process killed with SIGKILL in the middle of an MCP tool call: a new worker
// retries the call, which reaches the MCP server again with the same idempotency key (in the
// call's `_meta`), and the run completes. The server is a small one on the official SDK
// (test/fixtures/mcp/notes-server.mjs) that records the key each call brought.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { KeelClient } from '../../src/client';
import { startKeel, waitFor } from '../helpers/cli';
import { testAddress, uniqueName } from '../helpers/temporal';

const directory = mkdtempSync(path.join(os.tmpdir(), 'keel-mcp-kill-'));
const notesFile = path.join(directory, 'notes.jsonl');
const notes = (): Array<{ note: string; key: string | null; pid: number }> =>
  existsSync(notesFile) ? readFileSync(notesFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [];

test('the worker is killed mid-call; the call is made again on restart with the same idempotency key, and the run completes', async () => {
  const config = path.join(directory, 'keel.config.json');
  writeFileSync(config, JSON.stringify({ mcpServers: { notes: { command: process.execPath, args: [path.resolve('test/fixtures/mcp/notes-server.mjs')], env: { NOTES_FILE: notesFile } } } }));
  const taskQueue = uniqueName('keel-mcp-kill');
  const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: taskQueue, KEEL_CONFIG: config, KEEL_HOME: directory };
  const keel = await KeelClient.connect({ address: testAddress(), taskQueue });
  const first = startKeel(['worker'], env);
  let second: ReturnType<typeof startKeel> | undefined;
  try {
    await waitFor(() => /MCP notes: .*notes__slow_note/.test(first.output()), 'the first worker to list the MCP server\'s tools');
    // 2.5 s of work; a 4 s timeout, so the heartbeat timeout (the smaller of 10 s and the timeout) finds the lost call soon.
    const { workflowId } = await keel.startRun({
      goal: 'write a note',
      tools: ['notes__slow_note'],
      plan: { tasks: [{ id: 'note', kind: 'tool', tool: 'notes__slow_note', description: 'write the note', input: { note: 'a', ms: 2_500 }, timeoutMs: 4_000 }], outputFrom: 'note' },
      scenario: { model: {}, tools: {} },
    });
    await waitFor(() => notes().length === 1, 'the first call to reach the server', 30_000);
    first.child.kill('SIGKILL');
    await first.exited;
    second = startKeel(['worker'], env);
    const result = await keel.getResult(workflowId);
    expect(result).toMatchObject({ status: 'completed', output: 'noted a' });
    const calls = notes();
    expect(calls).toHaveLength(2);
    expect(calls[0]!.key).toEqual(expect.any(String));
    expect(calls[1]!.key).toBe(calls[0]!.key);
    expect(calls[1]!.pid).not.toBe(calls[0]!.pid); // a new server, started by the new worker
    // One activity, attempted twice: the retry is Temporal's, not a second call Keel scheduled.
    const { events } = await keel.temporal.workflow.getHandle(workflowId).fetchHistory();
    const type = temporal.api.enums.v1.EventType;
    const scheduled = events!.filter((event) => event.eventType === type.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && event.activityTaskScheduledEventAttributes?.activityType?.name === 'runTask');
    expect(scheduled).toHaveLength(1);
    const started = events!.find((event) => event.eventType === type.EVENT_TYPE_ACTIVITY_TASK_STARTED && event.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduled[0]!.eventId?.toString());
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(2);
  } finally {
    first.child.kill('SIGKILL');
    second?.child.kill('SIGINT');
    if (second) await second.exited;
    for (const { pid } of notes()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await keel.close();
  }
}, 120_000);

// A run's live stream at its doors, as processes: `keel serve`'s Server-Sent Events (token, resume
// with Last-Event-ID, keep-alives, 404, the end), Chromium's EventSource on the page keel serve
// serves, and the CLI (`--events` JSON lines, tokens on a terminal, `--follow`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { KeelClient } from '../../src/client';
import { tokenHash } from '../../src/security/api-tokens';
import type { StreamEvent } from '../../src/shared';
import { launchChromium } from '../helpers/browser';
import { freePort, keelBin, runKeel, startKeel, useWorkerProcess, waitFor } from '../helpers/cli';
import { streamedAnswer, streamedReply } from '../helpers/scenarios';
import { testAddress, uniqueName } from '../helpers/temporal';

const taskQueue = uniqueName('keel-stream-http');
const home = mkdtempSync(path.join(os.tmpdir(), 'keel-stream-http-'));
const env = { TEMPORAL_ADDRESS: testAddress(), KEEL_TASK_QUEUE: taskQueue, KEEL_HOME: home, KEEL_CONFIG: '' };
useWorkerProcess(env);

const token = 'viewer-token-0123456789';
/** A scenario whose model writes its answer over `delayMs`, word by word. */
function slowScenario(delayMs: number): string {
  const request = streamedReply(delayMs);
  const file = path.join(home, `slow-${delayMs}-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name: 'slow-reply',
      request: { goal: request.goal, tools: request.tools, plan: request.plan },
      ...request.scenario,
    }),
  );
  return file;
}

/** Reads Server-Sent Events until `stop` says so or the server ends the stream. */
async function readEvents(url: string, headers: Record<string, string>, stop?: (event: StreamEvent) => boolean): Promise<{ events: StreamEvent[]; comments: string[]; ended: boolean }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: StreamEvent[] = [];
  const comments: string[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body!.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { events, comments, ended: true };
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (block.startsWith(':')) {
        comments.push(block);
        continue;
      }
      const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
      const event = JSON.parse(fields.data!) as StreamEvent;
      expect(fields.id).toBe(String(event.offset));
      expect(fields.event).toBe(event.type);
      events.push(event);
      if (stop?.(event)) {
        controller.abort();
        return { events, comments, ended: false };
      }
    }
  }
}

describe('keel serve GET /runs/:id/events', () => {
  let server: ReturnType<typeof startKeel>;
  let base: string;
  let keel: KeelClient;
  let browser: Browser | undefined;
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = startKeel(['serve'], { ...env, KEEL_SERVE_ADDRESS: `127.0.0.1:${port}`, KEEL_API_TOKENS: `vera:${tokenHash(token)}:viewer`, KEEL_SSE_KEEPALIVE_MS: '200' });
    await waitFor(() => server.output().includes('keel serve'), 'keel serve to listen');
    keel = await KeelClient.connect({ address: testAddress(), taskQueue });
  });
  afterAll(async () => {
    await browser?.close();
    await keel?.close();
    server?.child.kill('SIGINT');
    await server?.exited;
  });

  test('a token reads the stream; a dropped reader resumes with Last-Event-ID: no gap, no repeat; keep-alives while quiet; the stream ends after run.ended', async () => {
    const { workflowId } = await keel.startRun(streamedReply(2_500));
    const url = `${base}/runs/${encodeURIComponent(workflowId)}/events`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(`${url}?access_token=wrong`)).status).toBe(401);
    expect((await fetch(`${base}/runs/no-such-run/events`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    expect((await fetch(url, { headers: { authorization: `Bearer ${token}`, 'last-event-id': 'yesterday' } })).status).toBe(400);

    let deltas = 0;
    const first = await readEvents(url, { authorization: `Bearer ${token}` }, (event) => event.type === 'model.delta' && ++deltas === 4);
    expect(first.ended).toBe(false);
    const rest = await readEvents(url, { authorization: `Bearer ${token}`, 'last-event-id': String(first.events.at(-1)!.offset) });
    expect(rest.ended).toBe(true);
    expect(rest.events.at(-1)).toMatchObject({ type: 'run.ended', status: 'completed' });
    const all = [...first.events, ...rest.events];
    expect(all.map((event) => event.offset)).toEqual(all.map((_, index) => index));
    expect(all.filter((event) => event.type === 'model.delta').map((event) => (event as { text: string }).text).join('')).toBe(streamedAnswer);
    expect([...first.comments, ...rest.comments]).toContain(': keep-alive');
    // ?after= resumes the same way, and the token may come in the URL (for EventSource).
    const again = await readEvents(`${url}?after=${first.events.at(-1)!.offset}&access_token=${token}`, {});
    expect(again.events).toEqual(rest.events);
  }, 60_000);

  test("Chromium's EventSource on the page keel serve serves shows the text as the model writes it", async () => {
    browser = await launchChromium();
    const { workflowId } = await keel.startRun(streamedReply(6_000));
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    try {
      await page.goto(`${base}/runs/${encodeURIComponent(workflowId)}/watch?access_token=${token}`);
      // Mid-stream: some of the words, not all of them.
      let partial = '';
      for (const deadline = Date.now() + 30_000; partial.split(' ').length < 5 && Date.now() < deadline; ) {
        partial = (await page.locator('#text').textContent()) ?? '';
        if (partial.split(' ').length < 5) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const screenshots = path.resolve(__dirname, '../../.keel/test/screenshots');
      execFileSync('mkdir', ['-p', screenshots]);
      await page.screenshot({ path: path.join(screenshots, 'stream-mid.png') });
      expect(partial.split(' ').length).toBeGreaterThanOrEqual(5);
      expect(partial.length).toBeLessThan(streamedAnswer.length);
      expect(streamedAnswer.startsWith(partial)).toBe(true);
      expect(await page.locator('#status').textContent()).toBe('streaming');
      await page.getByText('ended: completed').waitFor({ timeout: 30_000 });
      expect(await page.locator('#text').textContent()).toBe(streamedAnswer);
    } finally {
      await page.close();
    }
  }, 60_000);
});

describe('the CLI', () => {
  test('`keel run --events` prints the stream as JSON lines to run.ended; `--follow ID --events` attaches to a run already started', async () => {
    const ran = await runKeel(['run', '--scenario', slowScenario(600), '--events'], env);
    expect(ran.code).toBe(0);
    const events = ran.stdout.trim().split('\n').map((line) => JSON.parse(line) as StreamEvent);
    expect(events[0]!.type).toBe('run.started');
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', status: 'completed' });
    expect(events.filter((event) => event.type === 'model.delta').map((event) => (event as { text: string }).text).join('')).toBe(streamedAnswer);

    const keel = await KeelClient.connect({ address: testAddress(), taskQueue });
    try {
      const { workflowId } = await keel.startRun(streamedReply(600));
      const followed = await runKeel(['run', '--follow', workflowId, '--events'], env);
      expect(followed.code).toBe(0);
      expect(followed.stdout.trim().split('\n').map((line) => (JSON.parse(line) as StreamEvent).type).at(-1)).toBe('run.ended');
    } finally {
      await keel.close();
    }
    expect((await runKeel(['run', '--follow', 'no-such-run', '--events'], env)).code).toBe(2);
  }, 60_000);

  test('`keel run --wait` on a terminal shows the tokens under the running task as they arrive', async () => {
    // `script` gives the command a terminal, as a person's shell would.
    const command = [process.execPath, keelBin, 'run', '--scenario', slowScenario(1_500), '--wait'].map((part) => `'${part}'`).join(' ');
    const output = execFileSync('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...env }, timeout: 60_000 }).toString();
    expect(output).toMatch(/task:reply › Dear Ana, your refund/);
    expect(output).toContain('Result · completed');
  }, 60_000);
});

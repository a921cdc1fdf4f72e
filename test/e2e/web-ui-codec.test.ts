// Encrypted history in the Web UI: Temporal stores only ciphertext, and the UI, pointed at
// `keel codec-server`, shows the run's input and its escalation details in plain text, in real Chromium.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Browser } from 'playwright-core';
import { KeelClient } from '../../src/client';
import { AesGcmCodec, encryptedEncoding } from '../../src/security/codec';
import { createCodecServer } from '../../src/security/codec-server';
import { startDevServer, type DevServer } from '../../src/servers/dev-server';
import { launchChromium } from '../helpers/browser';
import { freePort } from '../helpers/cli';
import { waitForPending } from '../helpers/escalation';
import { llmTask, scriptedRequest } from '../helpers/scenarios';
import { createTestWorker, uniqueName } from '../helpers/temporal';

const screenshots = path.resolve(__dirname, '../../.keel/test/screenshots');

test('the Web UI reads an encrypted run through the codec server: input and escalation details in plain text', async () => {
  mkdirSync(screenshots, { recursive: true });
  const codec = new AesGcmCodec([{ id: 'test-key', key: randomBytes(32) }]);
  const [port, uiPort, codecPort] = [await freePort(), await freePort(), await freePort()];
  const uiUrl = `http://127.0.0.1:${uiPort}`;
  const codecServer = createCodecServer({ codec, allowedOrigins: [uiUrl] });
  await codecServer.listen({ host: '127.0.0.1', port: codecPort });
  let server: DevServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startDevServer({
      binary: process.env.KEEL_TEST_TEMPORAL_CLI!,
      databaseFile: path.join(mkdtempSync(path.join(os.tmpdir(), 'keel-codec-ui-')), 'temporal.db'),
      port,
      uiPort,
      codecEndpoint: `http://127.0.0.1:${codecPort}`,
    });
    const taskQueue = uniqueName('keel-codec-ui');
    const connection = await NativeConnection.connect({ address: server.address });
    const keel = await KeelClient.connect({ address: server.address, taskQueue, codec });
    const worker = await createTestWorker(connection, taskQueue, { codec });
    const secret = 'Acquire Globex for 41 million';
    const request = scriptedRequest({
      goal: secret,
      tasks: [llmTask('draft'), { id: 'review', kind: 'human_review', description: 'the board reads the term sheet', dependsOn: ['draft'] }],
      model: { 'task:draft': [{ text: 'Term sheet drafted.' }] },
      escalation: { timeoutMs: 120_000 },
    });
    await worker.runUntil(async () => {
      const { workflowId } = await keel.startRun(request);
      await waitForPending(keel, workflowId, 60_000);

      // What Temporal stores: ciphertext, the goal nowhere in it.
      const plain = new Client({ connection: await Connection.connect({ address: server!.address }) });
      const history = await plain.workflow.getHandle(workflowId).fetchHistory();
      const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      expect(Buffer.from(input.metadata!.encoding!).toString()).toBe(encryptedEncoding);
      expect(Buffer.from(JSON.stringify(history)).toString()).not.toContain('Globex');
      await plain.connection.close();

      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
      // The input, decoded by the codec server for the UI.
      await page.getByText(secret).first().waitFor({ timeout: 30_000 });
      // The current details, decoded too (the UI renders them in their own iframe under "User Metadata").
      await page.getByText('User Metadata').first().click();
      const details = page.frameLocator('iframe[src*="Waiting%20for%20a%20human%20decision"]');
      await details.getByText('task review needs a human review: the board reads the term sheet').first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: path.join(screenshots, 'encrypted-run-decoded.png'), fullPage: true });
      await keel.decide(workflowId, { decision: 'reject', note: 'end of the test', by: 'test' });
      const result = await keel.getResult(workflowId);
      expect(result.status).toBe('rejected');
    });
    await keel.close();
    await connection.close();
  } finally {
    await browser?.close();
    await server?.stop();
    await codecServer.close();
  }
}, 180_000);

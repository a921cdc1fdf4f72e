// Encrypted history: with the codec on, Temporal stores only ciphertext (a marker in the request is
// nowhere in the raw history); clients with the key read results; the codec server decodes raw
// payloads for the Web UI; keys rotate by id; a wrong or tampered payload fails loudly.
import { randomBytes } from 'node:crypto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection } from '@temporalio/worker';
import { KeelClient } from '../../src/client';
import { AesGcmCodec, decryptHistory, parseCodecKeys } from '../../src/security/codec';
import { createCodecServer } from '../../src/security/codec-server';
import { buildTimeline } from '../../src/trace/timeline';
import { llmTask, scriptedRequest, toolTask } from '../helpers/scenarios';
import { createTestKit, createTestWorker, testAddress, uniqueName } from '../helpers/temporal';

const marker = 'PATIENT-4711-CONFIDENTIAL';
const oldKey = { id: 'k1', key: randomBytes(32) };
const newKey = { id: 'k2', key: randomBytes(32) };

test('payloads are sealed with the first key and opened with any; rotation keeps old payloads readable', async () => {
  const plain = [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify({ note: marker })) }];
  const sealedOld = await new AesGcmCodec([oldKey]).encode(plain);
  expect(Buffer.from(sealedOld[0]!.data!).toString('latin1')).not.toContain(marker);
  expect(Buffer.from(sealedOld[0]!.metadata!['encryption-key-id']!).toString()).toBe('k1');
  const rotated = new AesGcmCodec([newKey, oldKey]);
  expect(Buffer.from((await rotated.decode(sealedOld))[0]!.data!).toString()).toContain(marker);
  expect(Buffer.from((await rotated.encode(plain))[0]!.metadata!['encryption-key-id']!).toString()).toBe('k2');
  await expect(new AesGcmCodec([newKey]).decode(sealedOld)).rejects.toThrow('this payload was encrypted with key "k1", which is not configured (KEEL_CODEC_KEYS has: k2)');
  // One byte of the ciphertext changed for certain (setting it to a constant left it unchanged one time in 256).
  const flipped = Buffer.from(sealedOld[0]!.data!);
  flipped[20] = flipped[20]! ^ 0xff;
  const tampered = { ...sealedOld[0]!, data: flipped };
  await expect(rotated.decode([tampered])).rejects.toThrow(/unable to authenticate|auth/i);
  expect(parseCodecKeys(`k1:${oldKey.key.toString('base64')},k2:${newKey.key.toString('base64')}`)).toEqual([oldKey, newKey]);
  expect(parseCodecKeys('k1:c2hvcnQ=')).toBe('key "k1" decodes to 5 bytes; AES-256 needs 32 (make one with: openssl rand -base64 32)');
  expect(parseCodecKeys('nokey')).toBe('"nokey…" is not id:base64key');
});

test('a run with the codec on: no plaintext in the raw history; results, trace and the codec server read it', async () => {
  const codec = new AesGcmCodec([newKey, oldKey]);
  const taskQueue = uniqueName('keel-codec');
  const connection = await NativeConnection.connect({ address: testAddress() });
  const keel = await KeelClient.connect({ address: testAddress(), taskQueue, codec });
  const raw = await createTestKit(); // a plain client without the codec: what Temporal stores
  const server = createCodecServer({ codec, allowedOrigins: ['http://localhost:8233'] });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  const codecUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  try {
    const worker = await createTestWorker(connection, taskQueue, { codec });
    const request = scriptedRequest({
      goal: `Summarize the chart of ${marker}`,
      tasks: [toolTask('fetch', 'records', [], { input: { patient: marker } }), llmTask('summary', ['fetch'])],
      tools: { records: [{ result: { patient: marker, notes: 'stable' } }] },
      // Streamed over 600 ms: the deltas' signals are sealed too, and the stream reads them with the key.
      model: { 'task:summary': [{ text: `${marker} is stable and resting well today`, delayMs: 600 }] },
    });
    const { result, streamed } = await worker.runUntil(async () => {
      const { workflowId } = await keel.startRun(request);
      const streamed: string[] = [];
      for await (const event of keel.events(workflowId)) if (event.type === 'model.delta' && event.key === 'task:summary') streamed.push(event.text);
      return { result: await keel.getResult(workflowId), streamed };
    });
    expect(result.status).toBe('completed');
    expect(streamed.length).toBeGreaterThan(1);
    expect(streamed.join('')).toBe(`${marker} is stable and resting well today`);
    expect(result.goal).toContain(marker); // the key holder reads everything

    const history = await raw.client.workflow.getHandle(result.workflowId).fetchHistory();
    const stored = historyToJSON(history);
    expect(stored).not.toContain(marker);
    expect(stored).not.toContain(Buffer.from(marker).toString('base64'));
    expect(stored).toContain(Buffer.from('binary/encrypted').toString('base64'));
    const deltaSignals = history.events!.filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'keelStreamDeltas');
    expect(deltaSignals.length).toBeGreaterThan(1);
    for (const signal of deltaSignals) {
      expect(Buffer.from(signal.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    }

    // keel trace decrypts with the configured keys.
    const timeline = buildTimeline(await decryptHistory(history, codec));
    expect(timeline.result?.goal).toContain(marker);
    expect(timeline.criticalPath).toEqual(['fetch', 'summary']);
    expect(buildTimeline(history).result).toBeUndefined(); // without the key there is nothing to read

    // The Web UI's path: the raw payload goes to the codec server and comes back readable.
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const body = { payloads: [{ metadata: Object.fromEntries(Object.entries(input.metadata!).map(([key, value]) => [key, Buffer.from(value).toString('base64')])), data: Buffer.from(input.data!).toString('base64') }] };
    const decoded = await fetch(`${codecUrl}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://localhost:8233' }, body: JSON.stringify(body) });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    const payload = ((await decoded.json()) as { payloads: Array<{ data: string }> }).payloads[0]!;
    expect(Buffer.from(payload.data, 'base64').toString()).toContain(marker);
    const preflight = await fetch(`${codecUrl}/decode`, { method: 'OPTIONS', headers: { origin: 'http://localhost:8233', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');
    const stranger = await fetch(`${codecUrl}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: JSON.stringify(body) });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  } finally {
    await server.close();
    await raw.close();
    await keel.close();
    await connection.close();
  }
});

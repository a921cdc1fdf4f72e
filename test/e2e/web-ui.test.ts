// A human decides from the Temporal Web UI: "More Actions" → "Send a Signal" → decide, in real Chromium.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runKeel } from '../helpers/cli';
import { waitForPending } from '../helpers/escalation';
import { launchChromium } from '../helpers/browser';
import { llmTask, scriptedRequest } from '../helpers/scenarios';
import { createTestKit, type TestKit } from '../helpers/temporal';

const screenshots = path.resolve(__dirname, '../../.keel/test/screenshots');
let kit: TestKit;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  kit = await createTestKit();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await kit?.close();
});

async function sendDecideSignal(page: Page, payload: string): Promise<void> {
  await page.getByRole('button', { name: 'More Actions' }).locator('visible=true').first().click();
  await page.getByTestId('signal-button').locator('visible=true').first().click();
  const modal = page.locator('dialog[open][data-testid="signal-confirmation-modal"]');
  await modal.waitFor({ state: 'visible' });
  // With the worker polling, the UI knows the run's signals and offers a picker; otherwise a name field.
  const picker = modal.getByTestId('signal-select-button');
  if (await picker.isVisible().catch(() => false)) {
    await picker.click();
    await page.locator('#signal-select-select [role=option]', { hasText: 'decide' }).locator('visible=true').first().click();
  } else {
    await modal.locator('input#signal-name').fill('decide');
  }
  const editor = modal.locator('.cm-content');
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // As a person pastes: a paste event carrying the text, which the editor takes as one insertion.
  await editor.evaluate((element, text) => {
    // Runs in the page: the browser's DataTransfer and ClipboardEvent, which Node's types do not name.
    const page = globalThis as unknown as { DataTransfer: new () => { setData(type: string, value: string): void }; ClipboardEvent: new (type: string, init: object) => Event };
    const data = new page.DataTransfer();
    data.setData('text/plain', text);
    element.dispatchEvent(new page.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, payload);
  await page.screenshot({ path: path.join(screenshots, 'signal-modal.png') });
  // One click: a person who clicks Submit once must have sent the decision.
  await modal.getByTestId('confirm-modal-button').click();
}

/** Opens the run in the Web UI and waits for its current details to say `saying`. */
async function openDetails(page: Page, workflowId: string, saying: string): Promise<void> {
  await page.goto(`${process.env.KEEL_TEST_UI_URL}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
  // The run's current details (what stopped it, the choices, the JSON to paste) are in "User Metadata".
  await page.getByText('User Metadata').first().click();
  // The UI renders each Markdown field in its own iframe; the current details are the one that says so.
  const details = page.frameLocator('iframe[src*="Waiting%20for%20a%20human%20decision"]');
  await details.getByText('Waiting for a human decision').first().waitFor({ timeout: 30_000 });
  await details.getByText(saying).first().waitFor();
}

/** The JSON the run's current details offer for a decision, exactly as they show it. */
async function offeredJson(workflowId: string, decision: string): Promise<string> {
  const metadata = (await kit.client.workflow.getHandle(workflowId).query('__temporal_workflow_metadata')) as { currentDetails?: string };
  const blocks = [...(metadata.currentDetails ?? '').matchAll(/```json\n([\s\S]*?)\n```/g)].map((match) => match[1]!);
  const block = blocks.find((text) => (JSON.parse(text) as { decision: string }).decision === decision);
  if (!block) throw new Error(`the details offer no JSON for ${decision}: ${metadata.currentDetails}`);
  return block;
}

test('an escalated run is approved from the Web UI and records the decision', async () => {
  const request = scriptedRequest({
    goal: 'Publish the quarterly note',
    tasks: [llmTask('draft'), { id: 'review', kind: 'human_review', description: 'a person checks the draft', dependsOn: ['draft'] }],
    model: { 'task:draft': [{ text: 'Q3 revenue grew 12%.' }] },
    escalation: { timeoutMs: 120_000 },
  });
  const result = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(request);
    await waitForPending(kit.keel, workflowId);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await openDetails(page, workflowId, 'task review needs a human review: a person checks the draft');
      await page.screenshot({ path: path.join(screenshots, 'escalation-details.png'), fullPage: true });
      const offered = await offeredJson(workflowId, 'approve');
      expect(Object.keys(JSON.parse(offered) as object)).toEqual(['decision', 'taskId', 'note', 'by']);
      expect(offered).toBe(JSON.stringify(JSON.parse(offered), null, 2)); // the form the editor keeps
      await sendDecideSignal(page, offered);
      await page.getByText('Workflow signaled.').first().waitFor({ timeout: 15_000 });
      await page.screenshot({ path: path.join(screenshots, 'signaled.png') });
    } finally {
      await page.close();
    }
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  // The details' own JSON, pasted and sent with one click: its "by" and "note" are what the run records.
  expect(result.escalations).toEqual([expect.objectContaining({ kind: 'human_review', taskId: 'review', decision: 'approve', decidedBy: 'your-name', note: 'optional' })]);
}, 120_000);

test('an agent\'s tool call waiting for approval is approved from the Web UI with the details\' own JSON', async () => {
  const request = {
    goal: 'refund order 7',
    tools: ['refund'],
    agent: {},
    approvals: { tools: ['refund'] },
    escalation: { timeoutMs: 120_000 },
    scenario: { model: { 'step:agent': [{ toolCalls: [{ tool: 'refund', input: { orderId: 7, cents: 500 } }] }, { text: 'refunded' }] }, tools: { refund: [{ result: { refunded: true } }] } },
  };
  const result = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(request);
    await waitForPending(kit.keel, workflowId);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await openDetails(page, workflowId, 'task agent wants to call refund');
      await sendDecideSignal(page, await offeredJson(workflowId, 'approve'));
      await page.getByText('Workflow signaled.').first().waitFor({ timeout: 15_000 });
    } finally {
      await page.close();
    }
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  expect(result.escalations).toEqual([expect.objectContaining({ kind: 'tool_approval', decision: 'approve', decidedBy: 'your-name' })]);
  expect(result.tasks[0]).toMatchObject({ toolCalls: [{ step: 1, tool: 'refund', status: 'completed' }] });
}, 120_000);

test('under requireVerified the Web UI signal is refused: the run keeps waiting, and `keel status` and the details say why and which door to use', async () => {
  const request = {
    ...scriptedRequest({
      goal: 'Pay the supplier invoice',
      tasks: [llmTask('draft'), { id: 'review', kind: 'human_review', description: 'a person checks the payment', dependsOn: ['draft'] }],
      model: { 'task:draft': [{ text: 'Pay 1,200 EUR to ACME.' }] },
      escalation: { timeoutMs: 120_000 },
    }),
    approvals: { requireVerified: true },
  };
  await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun(request);
    const pending = await waitForPending(kit.keel, workflowId);
    expect(pending.verifiedOnly).toBe(true);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await openDetails(page, workflowId, 'Only verified decisions count here');
      await page.screenshot({ path: path.join(screenshots, 'verified-only-details.png'), fullPage: true });
      // What a person would paste, without a signature: the Web UI sends it, the run refuses it.
      await sendDecideSignal(page, JSON.stringify({ decision: 'approve', taskId: 'review', by: 'your-name' }, null, 2));
      await page.getByText('Workflow signaled.').first().waitFor({ timeout: 15_000 });
    } finally {
      await page.close();
    }
    let status = '';
    const deadline = Date.now() + 15_000;
    while (!status.includes('Ignored signals: 1') && Date.now() < deadline) {
      status = (await runKeel(['status', workflowId], { TEMPORAL_ADDRESS: kit.address, KEEL_TASK_QUEUE: kit.taskQueue })).stdout;
      if (!status.includes('Ignored signals: 1')) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(status).toContain('awaiting_approval');
    expect(status).toContain('Ignored signals: 1');
    expect(status).toMatch(/this run takes only verified decisions \(approvals.requireVerified\), and this one is unsigned \(the Web UI's Send a Signal carries no identity\): decide through a door that signs/);
    // Still waiting on the same escalation: nothing was decided.
    expect(await kit.keel.getPending(workflowId)).toMatchObject({ id: pending.id, kind: 'human_review' });
    await kit.client.workflow.getHandle(workflowId).terminate('test over');
  });
}, 120_000);

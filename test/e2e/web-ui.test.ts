// A human decides from the Temporal Web UI: "More Actions" → "Send a Signal" → decide, in real Chromium.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
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
  await page.keyboard.insertText(payload); // insertText: no bracket auto-closing
  await page.screenshot({ path: path.join(screenshots, 'signal-modal.png') });
  await modal.getByTestId('confirm-modal-button').click();
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
      await page.goto(`${process.env.KEEL_TEST_UI_URL}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
      // The run's current details (what stopped it, the choices, the JSON to paste) are in "User Metadata".
      await page.getByText('User Metadata').first().click();
      // The UI renders each Markdown field in its own iframe; the current details are the one that says so.
      const details = page.frameLocator('iframe[src*="Waiting%20for%20a%20human%20decision"]');
      await details.getByText('Waiting for a human decision').first().waitFor({ timeout: 30_000 });
      await details.getByText('task review needs a human review: a person checks the draft').first().waitFor();
      await page.screenshot({ path: path.join(screenshots, 'escalation-details.png'), fullPage: true });
      await sendDecideSignal(page, '{"decision":"approve"}');
      await page.getByText('Workflow signaled.').first().waitFor({ timeout: 15_000 });
      await page.screenshot({ path: path.join(screenshots, 'signaled.png') });
    } finally {
      await page.close();
    }
    return kit.keel.getResult(workflowId);
  });
  expect(result.status).toBe('completed');
  // The pasted JSON has no "by", and the dev server's UI sends signals with an empty identity, so the
  // run says it does not know who decided (the details ask people to add "by").
  expect(result.escalations).toEqual([
    expect.objectContaining({ kind: 'human_review', taskId: 'review', decision: 'approve', decidedBy: 'unknown (no "by" in the signal)' }),
  ]);
}, 120_000);

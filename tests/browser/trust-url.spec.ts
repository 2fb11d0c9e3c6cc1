/**
 * Issue #14: opening a record from Records put its id into the URL (#/open/<id>), so it stayed in the
 * browser's history (and in synced history across devices). The record to open is now kept in memory.
 */
import { expect, test } from '@playwright/test';
import { protectThroughUi, startTrustStack, type TrustStack } from './trust-helpers.js';
import { skipIntro } from './app-helpers.js';

const SEQUENCE_KEY = 'Lp4&Tn8#Vx';

let stack: TrustStack;
test.beforeAll(async () => {
  stack = await startTrustStack();
});
test.afterAll(async () => {
  await stack?.close();
});

test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});

test('opening a record from Records keeps its id out of the URL and the history', async ({ page }) => {
  const visited: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) visited.push(frame.url());
  });
  const file = { name: 'discharge-letter.txt', mimeType: 'text/plain', buffer: Buffer.from('discharge letter') };
  const { recordId } = await protectThroughUi(page, stack.appUrl, file, SEQUENCE_KEY, 'stored');

  await page.goto(`${stack.appUrl}/#/records`);
  await page.locator(`li[data-record-id="${recordId}"]`).getByRole('button', { name: 'Open' }).click();
  await expect(page.getByRole('heading', { name: /discharge-letter\.txt/ })).toBeVisible();
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.getByRole('link', { name: 'Save the original file' })).toBeVisible({ timeout: 60_000 });

  expect(page.url()).toBe(`${stack.appUrl}/#/open`);
  // Every entry of this tab's history, as the browser keeps it.
  const entries = await page.evaluate(() => window.history.length);
  expect(entries).toBeGreaterThan(1);
  for (const url of [...visited, page.url()]) {
    expect(url).not.toContain(recordId);
    expect(url).not.toContain(encodeURIComponent(recordId));
  }
  await page.goBack();
  expect(page.url()).not.toContain(recordId);

  // An old link with an id is cut back to the view, and opens nothing by itself.
  await page.goto(`${stack.appUrl}/#/open/${recordId}`);
  await expect(page.locator('#share')).toBeVisible();
  expect(page.url()).toBe(`${stack.appUrl}/#/open`);
});

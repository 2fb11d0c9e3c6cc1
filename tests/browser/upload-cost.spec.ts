/**
 * Issue #15 items 2 and 4 in the real app: before protecting, the Protect view shows the upload size,
 * and for a lossy original (JPEG) offers to keep the original file with both sizes (pixels stay the
 * default); the Records list shows the true pixel size and the true upload size.
 */
import { expect, test } from './test.js';
import { startAppStack, type AppStack } from './app-stack.js';
import { skipIntro } from './app-helpers.js';

const PHOTO = new URL('../fixtures/photo-board.jpg', import.meta.url);
const SEQUENCE_KEY = 'adk21937';

let stack: AppStack;
test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  stack = await startAppStack();
});
test.afterAll(async () => {
  await stack?.close();
});
test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});

async function choosePhoto(page: import('@playwright/test').Page) {
  await page.goto(`${stack.appUrl}/#/protect`);
  await page.reload();
  // The sequence key first (step 1), then the file (step 2).
  await page.locator('ev-sequence-key-field input').fill(SEQUENCE_KEY);
  await page.locator('#pick').setInputFiles(PHOTO.pathname);
}

test('a JPEG shows its pixel upload estimate and the original-file size; pixels are the default, then Records shows pixel size and upload', async ({ page }) => {
  await choosePhoto(page);
  const estimate = page.locator('[data-upload-estimate]');
  await expect(estimate).toContainText('720 × 477 pixels, upload about');
  const keep = page.locator('[data-keep-original]');
  await expect(keep).not.toBeChecked();
  await expect(page.locator('label.keep-original')).toContainText(/Keep the original file instead: \d+(\.\d)? KB rather than about \d+(\.\d)? (KB|MB) as pixels/);
  await page.getByRole('button', { name: /^Protect/ }).click();
  const card = page.locator('section[data-record-id]').first();
  await expect(card).toBeVisible({ timeout: 60_000 });
  const recordId = (await card.getAttribute('data-record-id'))!;
  await page.goto(`${stack.appUrl}/#/records`);
  const row = page.locator(`li[data-record-id="${recordId}"]`);
  await expect(row.locator('[data-pixels]')).toHaveText('720 × 477 · 8-bit RGB');
  await expect(row.locator('[data-upload-size]')).toContainText(/^[\d.]+ (KB|MB) upload$/);
  // The source file's size (259,494 B), not the compressed pixel body's.
  await expect(row.locator('[data-content-size]')).toHaveText('253 KB');
});

test('keeping the original file stores the JPEG as its bytes, and the upload is the figure shown', async ({ page }) => {
  await choosePhoto(page);
  await page.locator('[data-keep-original]').check();
  const shown = (await page.locator('[data-upload-estimate]').textContent())!;
  expect(shown).toMatch(/^Upload [\d.]+ KB \(the original file\)$/);
  await page.getByRole('button', { name: /^Protect/ }).click();
  const card = page.locator('section[data-record-id]').first();
  await expect(card).toBeVisible({ timeout: 60_000 });
  const recordId = (await card.getAttribute('data-record-id'))!;
  await page.goto(`${stack.appUrl}/#/records`);
  const row = page.locator(`li[data-record-id="${recordId}"]`);
  await expect(row).toBeVisible();
  await expect(row.locator('[data-pixels]')).toHaveCount(0);
  await expect(row.locator('[data-upload-size]')).toHaveText(`${shown.replace(/^Upload /, '').replace(/ \(the original file\)$/, '')} upload`);
});

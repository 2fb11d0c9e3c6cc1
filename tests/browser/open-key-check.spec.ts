/**
 * The open view checks a typed sequence key against a record on this device before Open (vault
 * `warmOpen`: Argon2id with the salt of a cached head, then the head's key check), so that Open does not
 * wait for Argon2id and a wrong key is said before anything is downloaded or decrypted.
 */
import { expect, test } from './test.js';
import { startAppStack, type AppStack } from './app-stack.js';
import { skipIntro } from './app-helpers.js';
import { protectInApp } from './app-flows.js';

const PHOTO = new URL('../fixtures/photo-board.jpg', import.meta.url);
const SEQUENCE_KEY = 'Qw4#nR8!tY';

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

test('a typed key is checked against the record before Open: wrong length, wrong order, right key; then it opens', async ({ page }) => {
  const { recordId } = await protectInApp(page, stack.appUrl, PHOTO.pathname, SEQUENCE_KEY);
  await page.goto(`${stack.appUrl}/#/records`);
  await page.locator(`li[data-record-id="${recordId}"]`).getByRole('button', { name: 'Open' }).click();
  const seq = page.locator('#seq');
  const verdict = page.locator('ev-open-view [data-key-verdict]');
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));

  await seq.fill('Qw4#nR8!');
  await expect(verdict).toHaveAttribute('data-key-verdict', 'wrong', { timeout: 30_000 });
  await expect(verdict).toContainText('8 characters');
  // The same characters in another order: told apart by the record's check, after Argon2id.
  await seq.fill('wQ4#nR8!tY');
  await expect(verdict).toHaveAttribute('data-key-verdict', 'wrong', { timeout: 30_000 });
  await expect(verdict).toContainText('not the key this record was protected with');
  await seq.fill(SEQUENCE_KEY);
  await expect(verdict).toHaveAttribute('data-key-verdict', 'matches', { timeout: 30_000 });
  // Checked from this device's copy: no request was made while typing.
  expect(requests.filter((u) => !u.startsWith(`${stack.appUrl}/`) || u.includes('/api/'))).toEqual([]);

  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  // Another key typed after opening is checked again.
  await seq.fill('Qw4#nR8!tX');
  await expect(verdict).toHaveAttribute('data-key-verdict', 'wrong', { timeout: 30_000 });
});
